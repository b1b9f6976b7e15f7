"""The linear "identity" autoencoder: 784 -> 784 -> 784 dense layers, no bias, no activation, MSE.

With as many hidden units as pixels it can learn the identity; --mode=viz draws W2.W1 beside the identity
(figures/matrices.png). Pixels the data never lights (MNIST's empty border) give no gradient, so W2.W1
keeps its random initial values there.
    python -m jaxgen.main --config=configs/ae_linear.py --workdir=runs/ae_linear
    python -m jaxgen.main --config=configs/ae_linear.py --workdir=runs/ae_linear --mode=viz
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.arch = "linear"
    config.model.latent_dim = 784
    config.model.crop = 2
    config.optim.lr = 1e-3
    config.train.num_steps = 10_000
    return config
