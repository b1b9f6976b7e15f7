"""Conv VAE: the DCGAN down stack to (mean, log-variance) of a 16-d code, the DCGAN up stack to Bernoulli
logits of the 784 digit pixels, on dynamically binarised MNIST. Adam 1e-3, batch 128.

    python -m jaxgen.main --config=configs/vae_conv.py --workdir=runs/vae_conv
    python -m jaxgen.main --config=configs/vae_conv.py --workdir=runs/vae_conv --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "vae", model={"arch": "conv", "width": 32, "latent_dim": 16}, eval={"likelihood_images": 200}
    )
