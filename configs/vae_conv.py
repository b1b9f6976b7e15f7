"""Conv VAE: the DCGAN down stack to (mean, log-variance) of a 16-d code, the DCGAN up stack to Bernoulli
logits of the 784 digit pixels, on dynamically binarised MNIST. Adam 1e-3, batch 128.

    python -m jaxgen.main --config=configs/vae_conv.py --workdir=runs/vae_conv
    python -m jaxgen.main --config=configs/vae_conv.py --workdir=runs/vae_conv --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "vae"
    config.model.arch = "conv"
    config.model.latent_dim = 16
    config.model.width = 32
    config.model.crop = 2  # likelihood over the 784 pixels of the original digits
    config.model.binarize = True
    config.optim.lr = 1e-3
    config.optim.b1 = 0.9
    config.train.batch_size = 128
    config.train.num_steps = 4680  # 10 epochs
    config.train.eval_every = 468
    config.train.checkpoint_every = 468
    config.eval.likelihood_images = 200  # k=5000 conv decoder passes per image: ~1 s each on a 2-core CPU
    return config
