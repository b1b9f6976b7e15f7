"""The seeds' VAE: MLP 784-400-(2)-400-784, Bernoulli decoder, on dynamically binarised MNIST.

Adam 1e-3, batch 128, 10 epochs, as the seed. The 2-d code gives the seeds' manifold and scatter pictures
(--mode=viz); for the likelihood in nats use --mode=eval (ELBO and IWAE, k=5000).
    python -m jaxgen.main --config=configs/vae.py --workdir=runs/vae
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "vae"
    config.model.arch = "mlp"
    config.model.latent_dim = 2
    config.model.hidden = 400
    config.model.crop = 2  # the 28x28 digits inside jaxgen's 32x32 padding: 784 modelled pixels
    config.model.binarize = True
    config.optim.lr = 1e-3
    config.optim.b1 = 0.9
    config.train.batch_size = 128
    config.train.num_steps = 4680  # 10 epochs of 468 batches
    config.train.eval_every = 468
    config.train.checkpoint_every = 468
    return config
