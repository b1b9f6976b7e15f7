"""Conv autoencoder with a linear 16-d bottleneck: two k4 s2 convs (ReLU, no BatchNorm), a dense layer
with no activation to 16 numbers, and the mirror image back.

    python -m jaxgen.main --config=configs/ae_conv_linear.py --workdir=runs/ae_conv_linear
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.crop = 2  # the loss and test metrics cover the 784 digit pixels, as every MNIST AE here
    config.model.arch = "conv_linear"
    config.model.latent_dim = 16
    config.model.width = 32
    config.train.num_steps = 10_000
    return config
