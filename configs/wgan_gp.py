"""WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028): Wasserstein losses with a gradient penalty, lambda 10,
one interpolation coefficient per example, 5 critic updates per generator update, no BatchNorm in the critic,
Adam 1e-4 with betas (0.0, 0.9) as the paper.
    python -m jaxgen.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "wgan_gp"
    config.model.gp_weight = 10.0
    config.model.n_critic = 5
    config.model.disc_batch_norm = False  # the penalty is per example; the family enforces it anyway
    config.optim.lr = 1e-4
    config.optim.b1 = 0.0
    config.optim.b2 = 0.9
    config.train.num_steps = 5000
    return config
