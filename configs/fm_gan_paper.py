"""Feature-matching GAN at 100 labels on Salimans et al.'s full schedule (arXiv:1606.03498; their MNIST code):
300 epochs (180,000 steps of batch 100), evaluation on the running average of the discriminator's params
with their decay 0.9999; everything else as configs/fm_gan.py (30 epochs, the quick default). About 2.3
hours of a 2-core CPU to themselves; it resumes exactly, so it can run in pieces. Recorded run (seed 0):
1.07% test error (experiments/README.md, semi-supervised GANs).
    python -m jaxgen.main --config=configs/fm_gan_paper.py --workdir=runs/fm_gan_paper
Paper: 0.93 +- 0.065% test error at 100 labels (Table 1).
"""

from jaxgen.config import base_config


def get_config():
    config = base_config("fm_gan")
    config.train.num_steps = 180_000
    config.train.average_decay = 0.9999
    config.train.eval_every = 6000  # every 10 epochs
    config.train.checkpoint_every = 6000
    return config
