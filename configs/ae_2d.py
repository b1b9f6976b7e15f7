"""The conv autoencoder of configs/ae.py with a 2-d code, for the seeds' latent-manifold pictures.
python -m jaxgen.main --config=configs/ae_2d.py --workdir=runs/ae_2d
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.crop = 2  # the loss and test metrics cover the 784 digit pixels, as every MNIST AE here
    config.model.latent_dim = 2
    config.model.recon_loss = "mse"
    config.train.num_steps = 10_000
    return config
