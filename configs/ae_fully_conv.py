"""Fully-convolutional autoencoder: no dense layer; the code is a 4x4 map with 16 channels (256 numbers).

Encoder: k4 s2 convs 32 -> 16 -> 8 -> 4 (widths w, 2w, 4w; BatchNorm, LeakyReLU) and a 1x1 conv to 16
channels. Decoder: a 3x3 conv, then k4 s2 transposed convs back to 32x32.
    python -m jaxgen.main --config=configs/ae_fully_conv.py --workdir=runs/ae_fully_conv
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "ae", model={"arch": "fully_conv", "width": 32, "latent_dim": 256}, train={"num_steps": 1500}
    )
