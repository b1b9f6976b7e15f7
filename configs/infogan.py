"""InfoGAN (Chen et al. 2016, arXiv:1606.03657), MNIST setting: 62 noise dimensions, one 10-way categorical
and 2 uniform(-1, 1) continuous codes; the Q head shares the discriminator's body; the mutual-information
loss (weight 1) trains the generator and Q only. DCGAN networks, Adam 2e-4, betas (0.5, 0.999), batch 64.
    python -m jaxgen.main --config=configs/infogan.py --workdir=runs/infogan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("infogan")
