"""VAE-GAN (Larsen et al. 2015, arXiv:1512.09300): a conv VAE whose reconstruction error is measured in the
features of a jointly trained discriminator (its third conv layer).

DCGAN stacks at width 32, 32-d code, Adam 2e-4 (betas 0.5, 0.999) for all three networks, batch 64.
    python -m jaxgen.main --config=configs/vaegan.py --workdir=runs/vaegan
    python -m jaxgen.main --config=configs/vaegan.py --workdir=runs/vaegan --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config("vaegan")
