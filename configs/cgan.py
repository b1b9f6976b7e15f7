"""Conditional GAN (Mirza & Osindero 2014, arXiv:1411.1784) on the DCGAN networks: the one-hot digit is
appended to the generator's noise and given to the discriminator as 10 constant image planes;
non-saturating loss, Adam 2e-4, betas (0.5, 0.999), batch 64.
    python -m jaxgen.main --config=configs/cgan.py --workdir=runs/cgan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("cgan")
