"""EBGAN (Zhao, Mathieu, LeCun 2016, arXiv:1609.03126): an autoencoder discriminator whose energy is the
per-pixel MSE reconstruction error, the margin loss (m = 1 on images in [-1, 1]) and the pulling-away term
(weight 0.1) on the discriminator's 64-d codes; DCGAN networks, Adam 2e-4, betas (0.5, 0.999), batch 64.
    python -m jaxgen.main --config=configs/ebgan.py --workdir=runs/ebgan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ebgan")
