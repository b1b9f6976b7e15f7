"""Conv autoencoder with a linear 16-d bottleneck: two k4 s2 convs (ReLU, no BatchNorm), a dense layer
with no activation to 16 numbers, and the mirror image back.

    python -m jaxgen.main --config=configs/ae_conv_linear.py --workdir=runs/ae_conv_linear
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "ae", model={"arch": "conv_linear", "width": 32, "latent_dim": 16}, train={"num_steps": 3000}
    )
