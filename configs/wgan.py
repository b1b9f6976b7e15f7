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
    config = base_config()
    config.model.name = "wgan"
    config.model.n_critic = 5
    config.model.clip_value = 0.01
    config.model.disc_batch_norm = False
    config.optim.name = "rmsprop"
    config.optim.lr = 5e-5
    config.train.num_steps = 5000  # generator iterations
    config.train.eval_every = 500
    config.train.checkpoint_every = 500
    return config
