"""Contractive autoencoder (Rifai et al. 2011): MSE + lambda * ||d code / d x||_F^2, the squared Frobenius
norm of the full encoder Jacobian computed exactly with autodiff (one reverse pass per code unit).

MLP 784-512-(32, sigmoid)-512-784: the seed's penalty was the gradient of the summed code, a different
quantity; tests/test_autoencoder.py checks ours against a finite-difference Jacobian.
    python -m jaxgen.main --config=configs/ae_contractive.py --workdir=runs/ae_contractive
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "ae"
    config.model.arch = "mlp"
    config.model.latent_dim = 32
    config.model.code_activation = "sigmoid"
    config.model.hidden = 512
    config.model.depth = 1
    config.model.crop = 2
    config.model.contractive = 0.01
    config.train.num_steps = 10_000
    return config
