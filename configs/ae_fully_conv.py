"""Fully-convolutional autoencoder: no dense layer; the code is a 4x4 map with 16 channels (256 numbers).

Encoder: k4 s2 convs 32 -> 16 -> 8 -> 4 (widths w, 2w, 4w; BatchNorm, LeakyReLU) and a 1x1 conv to 16
channels. Decoder: a 3x3 conv, then k4 s2 transposed convs back to 32x32.
    python -m jaxgen.main --config=configs/ae_fully_conv.py --workdir=runs/ae_fully_conv
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.crop = 2  # the loss and test metrics cover the 784 digit pixels, as every MNIST AE here
    config.model.arch = "fully_conv"
    config.model.latent_dim = 256  # 4 x 4 x 16
    config.model.width = 32
    config.train.num_steps = 10_000
    return config
