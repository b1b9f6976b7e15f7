"""MLP VAE with a Gaussian decoder on grey-level pixels: mean sigmoid(MLP(z)) and one learned pixel scale.

784-400-(20)-400-784, Adam 1e-3, batch 128, 10 epochs. Its ELBO is a density on [0, 1]^784 (it can be
positive) and is not comparable with the binarised-MNIST nats of configs/vae.py.
    python -m jaxgen.main --config=configs/vae_gaussian.py --workdir=runs/vae_gaussian
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "vae"
    config.model.arch = "mlp"
    config.model.decoder_dist = "gaussian"
    config.model.latent_dim = 20
    config.model.hidden = 400
    config.model.crop = 2
    config.optim.lr = 1e-3
    config.optim.b1 = 0.9
    config.train.batch_size = 128
    config.train.num_steps = 4680
    config.train.eval_every = 468
    config.train.checkpoint_every = 468
    config.eval.likelihood_images = 1000
    return config
