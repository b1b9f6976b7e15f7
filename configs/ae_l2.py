"""The DCGAN conv autoencoder of configs/ae.py with the seeds' L2 penalty on its 100-d codes (weight 0.2).

The penalty keeps codes near the origin, so decoding N(0, I) codes (the "random samples" grid) lands
closer to where the decoder was trained.
    python -m jaxgen.main --config=configs/ae_l2.py --workdir=runs/ae_l2
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.crop = 2  # the loss and test metrics cover the 784 digit pixels, as every MNIST AE here
    config.model.latent_dim = 100
    config.model.code_l2 = 0.2
    config.train.num_steps = 10_000
    return config
