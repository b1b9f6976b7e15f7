"""DCGAN - Radford, Metz, Chintala 2015, arXiv:1511.06434 (GAN: Goodfellow et al. 2014, arXiv:1406.2661).

Seed settings: Adam lr 2e-4, betas (0.5, 0.999), batch 64, tanh generator, non-saturating loss.
    python -m jaxgen.main --config=configs/gan.py --workdir=runs/gan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("gan")
