"""WGAN with weight clipping - Arjovsky, Chintala, Bottou 2017, "Wasserstein GAN", arXiv:1701.07875.

The paper's settings: RMSProp lr 5e-5, critic clipped to [-0.01, 0.01], n_critic = 5 (100 for the first 25
generator steps and every 500th, as the reference code), batch 64. The critic is the reference code's:
three stride-2 convs to a 4x4 map (BatchNorm after the second and third), a 4x4 conv to the score, no
biases, every parameter clipped (BatchNorm's scale and offset too); model.critic_convs / critic_bias /
disc_batch_norm select others. Measured here: without BatchNorm the clipped critic was nearly linear in the
image (its gradient pointed the same way for every fake) and the generator collapsed to one image; with
BatchNorm but the DCGAN stack's four convs and biases, the critic sat at its clip bound and the generator
did not move (experiments/README.md).
    python -m jaxgen.main --config=configs/wgan.py --workdir=runs/wgan
"""

from jaxgen.config import base_config


def get_config():
    return base_config("wgan")
