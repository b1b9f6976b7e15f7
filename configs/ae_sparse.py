"""Sparse autoencoder: the MLP autoencoder of configs/ae_mlp.py with an L1 penalty on its 100-d codes.

The loss is MSE + code_l1 * mean |code|; the fraction of near-zero code units is in the eval report.
    python -m jaxgen.main --config=configs/ae_sparse.py --workdir=runs/ae_sparse
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.arch = "mlp"
    config.model.latent_dim = 100
    config.model.hidden = 512
    config.model.depth = 2
    config.model.crop = 2
    config.model.code_l1 = 0.01
    config.train.num_steps = 10_000
    return config
