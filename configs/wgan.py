"""WGAN with weight clipping - Arjovsky, Chintala, Bottou 2017, "Wasserstein GAN", arXiv:1701.07875.

The paper's settings: RMSProp lr 5e-5, critic clipped to [-0.01, 0.01], n_critic = 5, batch 64.
The critic has no BatchNorm: the dual needs a critic f(x) of each sample, and a batch-normalised critic's
score depends on the rest of its batch. Measured here with BatchNorm (the paper's DCGAN critic, clamped like
its reference code): the critic pinned at +-0.188 from step 300 and the generator drew one fixed checkerboard
(experiments/README.md).
    python -m jaxgen.main --config=configs/wgan.py --workdir=runs/wgan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("wgan")
