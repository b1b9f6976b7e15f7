"""Adversarial autoencoder (Makhzani et al. 2015, arXiv:1511.05644) with a 2-d N(0, I) prior, as the
paper's figure 2: MLP 784-1000-1000-2 (linear code), decoder 2-1000-1000-784 (sigmoid, cross-entropy),
discriminator 2-1000-1000-1. Adam 2e-4, betas (0.5, 0.999), batch 100, 20 epochs. The paper alternates a
reconstruction phase (cross-entropy summed over the 784 pixels) and a regularisation phase; here one update
minimises the per-pixel mean cross-entropy + 0.05 x the adversarial loss. With weight 1 the adversary
swamped the (784 times smaller) per-pixel reconstruction and the 2-d codes collapsed onto a line
(experiments/README.md).
    python -m jaxgen.main --config=configs/aae.py --workdir=runs/aae
    python -m jaxgen.main --config=configs/aae.py --workdir=runs/aae --mode=viz   # the prior-fit picture
Other priors (jaxgen/models/priors.py), e.g. the swiss roll:
    python -m jaxgen.main --config=configs/aae.py --workdir=runs/aae_roll --config.model.prior=swiss_roll
priors: gaussian, mixture (10 Gaussians on a circle), triangle, donut, swiss_roll.
The paper's label-conditioned prior (section 2.3, fig. 4): each digit's codes fill their own petal:
    python -m jaxgen.main --config=configs/aae.py --workdir=runs/aae_petals --config.model.prior=mixture \
        --config.model.label_prior=True
"""

from jaxgen.config import base_config


def get_config():
    return base_config("aae")
