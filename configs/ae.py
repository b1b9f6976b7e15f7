"""DCGAN-style conv autoencoder with a 100-d code (the seeds' vanilla conv AE).

Adam lr 2e-4, betas (0.5, 0.999), batch 64, sigmoid decoder, per-pixel MSE; 1500 steps (about 2 minutes of a
2-core CPU; the reconstructions are sharp by then: the README's gallery card).
    python -m jaxgen.main --config=configs/ae.py --workdir=runs/ae
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", train={"num_steps": 1500})
