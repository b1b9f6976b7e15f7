"""The MLP autoencoder of configs/ae_mlp.py with a sigmoid-bounded 2-d code: its manifold over (0, 1)^2.

python -m jaxgen.main --config=configs/ae_mlp_2d.py --workdir=runs/ae_mlp_2d
python -m jaxgen.main --config=configs/ae_mlp_2d.py --workdir=runs/ae_mlp_2d --mode=viz
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "ae", model={"arch": "mlp", "latent_dim": 2, "code_activation": "sigmoid"}, train={"num_steps": 5000}
    )
