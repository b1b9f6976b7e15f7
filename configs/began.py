"""BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717): an autoencoder discriminator scored by its L1
reconstruction error, the equilibrium control k_t (lambda_k 0.001, k_0 = 0) and the convergence measure
M_global in the log; no BatchNorm in the discriminator; z and the discriminator code are 64-d.
Departures for MNIST on the DCGAN stacks (experiments/README.md): Adam 5e-4 instead of the paper's 1e-4,
whose L1 autoencoder sat on the blank-image plateau (real L1 0.2) for hundreds of steps; gamma 0.75, the
seed zoo's value (the paper's 0.5 collapsed to one digit in a 1500-step trial).
    python -m jaxgen.main --config=configs/began.py --workdir=runs/began
"""

from jaxgen.config import base_config


def get_config():
    return base_config("began")
