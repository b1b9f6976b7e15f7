"""The DCGAN conv autoencoder of configs/ae.py with the seeds' L2 penalty on its 100-d codes (weight 0.2).

The penalty keeps codes near the origin, so decoding N(0, I) codes (the "random samples" grid) lands
closer to where the decoder was trained.
    python -m jaxgen.main --config=configs/ae_l2.py --workdir=runs/ae_l2
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", model={"code_l2": 0.2}, train={"num_steps": 1500})
