"""MLP VAE with a Gaussian decoder on grey-level pixels: mean sigmoid(MLP(z)) and one learned pixel scale.

784-400-(20)-400-784, Adam 1e-3, batch 128, 10 epochs. Its ELBO is a density on [0, 1]^784 (it can be
positive) and is not comparable with the binarised-MNIST nats of configs/vae.py.
    python -m jaxgen.main --config=configs/vae_gaussian.py --workdir=runs/vae_gaussian
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "vae",
        model={"decoder_dist": "gaussian", "binarize": False, "latent_dim": 20},
        eval={"likelihood_images": 1000},
    )
