"""Contractive autoencoder (Rifai et al. 2011): MSE + lambda * ||d code / d x||_F^2, the squared Frobenius
norm of the full encoder Jacobian computed exactly with autodiff (one reverse pass per code unit).

MLP 784-512-(32, sigmoid)-512-784: the seed's penalty was the gradient of the summed code, a different
quantity; tests/test_autoencoder.py checks ours against a finite-difference Jacobian.
    python -m jaxgen.main --config=configs/ae_contractive.py --workdir=runs/ae_contractive
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "ae",
        model={
            "arch": "mlp",
            "depth": 1,
            "latent_dim": 32,
            "code_activation": "sigmoid",
            "contractive": 0.01,
        },
        train={"num_steps": 3000},
    )
