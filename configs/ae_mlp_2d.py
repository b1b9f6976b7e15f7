"""The MLP autoencoder of configs/ae_mlp.py with a sigmoid-bounded 2-d code: its manifold over (0, 1)^2.

python -m jaxgen.main --config=configs/ae_mlp_2d.py --workdir=runs/ae_mlp_2d
python -m jaxgen.main --config=configs/ae_mlp_2d.py --workdir=runs/ae_mlp_2d --mode=viz
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.arch = "mlp"
    config.model.latent_dim = 2
    config.model.code_activation = "sigmoid"
    config.model.hidden = 512
    config.model.depth = 2
    config.model.crop = 2
    config.train.num_steps = 10_000
    return config
