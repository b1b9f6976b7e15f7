"""The seeds' MNIST CNN classifier (conv 64/128/256/512 k4 s2, BatchNorm, LeakyReLU 0.2, dense -> 10).

Adam lr 1e-3 with cosine decay, batch 64, 5 epochs (4685 steps); test accuracy is logged every epoch.
    python -m jaxgen.main --config=configs/classifier.py --workdir=runs/classifier
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "classifier"
    config.optim.lr = 1e-3
    config.optim.b1 = 0.9
    config.optim.schedule = "cosine"  # constant 1e-3 plateaued at 98.2-98.7% test accuracy
    config.train.num_steps = 4685  # 5 epochs of 937 batches
    config.train.eval_every = 937  # once per epoch
    config.train.checkpoint_every = 937
    return config
