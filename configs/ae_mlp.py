"""MLP autoencoder 784-512-512-(100)-512-512-784 on the digits' 784 pixels (the seeds' MLP AE).

Adam lr 2e-4, betas (0.5, 0.999), batch 64, sigmoid decoder, per-pixel MSE.
    python -m jaxgen.main --config=configs/ae_mlp.py --workdir=runs/ae_mlp
Variants are overrides: --config.model.latent_dim=2, --config.model.code_activation=sigmoid,
--config.model.code_l2=0.2.
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.arch = "mlp"
    config.model.latent_dim = 100
    config.model.hidden = 512
    config.model.depth = 2
    config.model.crop = 2  # the 28x28 digits inside jaxgen's 32x32 padding
    config.train.num_steps = 10_000
    return config
