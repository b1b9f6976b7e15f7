"""The seeds' MNIST CNN classifier (conv 64/128/256/512 k4 s2, BatchNorm, LeakyReLU 0.2, dense -> 10).

Adam lr 1e-3 with cosine decay, batch 64, 5 epochs (4685 steps); test accuracy is logged every epoch.
    python -m jaxgen.main --config=configs/classifier.py --workdir=runs/classifier
"""

from jaxgen.config import base_config


def get_config():
    return base_config("classifier")
