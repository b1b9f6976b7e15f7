"""MLP autoencoder 784-512-512-(100)-512-512-784 on the digits' 784 pixels (the seeds' MLP AE).

Adam lr 2e-4, betas (0.5, 0.999), batch 64, sigmoid decoder, per-pixel MSE.
    python -m jaxgen.main --config=configs/ae_mlp.py --workdir=runs/ae_mlp
Variants are overrides: --config.model.latent_dim=2, --config.model.code_activation=sigmoid,
--config.model.code_l2=0.2.
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ae", model={"arch": "mlp"}, train={"num_steps": 5000})
