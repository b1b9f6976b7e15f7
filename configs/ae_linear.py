"""The linear "identity" autoencoder: 784 -> 784 -> 784 dense layers, no bias, no activation, MSE.

With as many hidden units as pixels it can learn the identity; --mode=viz draws W2.W1 beside the identity
(figures/matrices.png). Pixels the data never lights (MNIST's empty border) give no gradient, so W2.W1
keeps its random initial values there. 5000 steps (about 20 s of training on a 2-core CPU).
    python -m jaxgen.main --config=configs/ae_linear.py --workdir=runs/ae_linear
    python -m jaxgen.main --config=configs/ae_linear.py --workdir=runs/ae_linear --mode=viz
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "ae", model={"arch": "linear", "latent_dim": 784}, optim={"lr": 1e-3}, train={"num_steps": 5000}
    )
