"""The seeds' VAE: MLP 784-400-(2)-400-784, Bernoulli decoder, on dynamically binarised MNIST.

Adam 1e-3, batch 128, 10 epochs, as the seed. The 2-d code gives the seeds' manifold and scatter pictures
(--mode=viz); for the likelihood in nats use --mode=eval (ELBO and IWAE, k=5000).
    python -m jaxgen.main --config=configs/vae.py --workdir=runs/vae
"""

from jaxgen.config import base_config


def get_config():
    return base_config("vae")
