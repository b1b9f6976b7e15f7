"""DCGAN-style conv autoencoder with a 100-d code (the seeds' vanilla conv AE).

Adam lr 2e-4, betas (0.5, 0.999), batch 64, sigmoid decoder, per-pixel MSE.
    python -m jaxgen.main --config=configs/ae.py --workdir=runs/ae
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.crop = 2  # the loss and test metrics cover the 784 digit pixels, as every MNIST AE here
    config.model.latent_dim = 100
    config.model.recon_loss = "mse"
    config.train.num_steps = 10_000
    return config
