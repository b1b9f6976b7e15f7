"""The conv autoencoder of configs/ae.py with a 2-d code, for the seeds' latent-manifold pictures; 1500 steps
like configs/ae.py.
python -m jaxgen.main --config=configs/ae_2d.py --workdir=runs/ae_2d
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", model={"latent_dim": 2}, train={"num_steps": 1500})
