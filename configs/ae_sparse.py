"""Sparse autoencoder: the MLP autoencoder of configs/ae_mlp.py with an L1 penalty on its 100-d codes.

The loss is MSE + code_l1 * mean |code|; the fraction of near-zero code units is in the eval report.
    python -m jaxgen.main --config=configs/ae_sparse.py --workdir=runs/ae_sparse
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", model={"arch": "mlp", "code_l1": 0.01}, train={"num_steps": 5000})
