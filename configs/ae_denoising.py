"""Denoising autoencoder (Vincent et al. 2008): each input pixel is zeroed with probability 0.5 and the MLP
autoencoder of configs/ae_mlp.py reconstructs the clean digit; 5000 steps. --mode=viz draws clean /
corrupted / restored.

    python -m jaxgen.main --config=configs/ae_denoising.py --workdir=runs/ae_denoising
    python -m jaxgen.main --config=configs/ae_denoising.py --workdir=runs/ae_denoising --mode=viz
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", model={"arch": "mlp", "input_dropout": 0.5}, train={"num_steps": 5000})
