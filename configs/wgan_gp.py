"""WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028): Wasserstein losses with a gradient penalty, lambda 10,
one interpolation coefficient per example, 5 critic updates per generator update, no BatchNorm in the critic,
Adam 1e-4 with betas (0.0, 0.9) as the paper.
    python -m jaxgen.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp
"""

from jaxgen.config import base_config


def get_config():
    return base_config("wgan_gp")
