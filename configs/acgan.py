"""ACGAN (Odena, Olah, Shlens 2017, arXiv:1610.09585) on the DCGAN networks: the discriminator also
classifies the digit, and both networks minimise the class cross-entropy of generated images;
Adam 2e-4, betas (0.5, 0.999), batch 64.
    python -m jaxgen.main --config=configs/acgan.py --workdir=runs/acgan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("acgan")
