"""BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717) on the playground's small MNIST networks: the
method of configs/began.py (autoencoder discriminator scored by L1 error, equilibrium control k_t, M_global)
with znxlwm's MNIST BEGAN networks (model.arch=small: the InfoGAN generator, a one-conv discriminator with a
linear 32-d code) and its settings (gamma 1, Adam 2e-4, batch 64, z of 62). On the paper's own networks
BEGAN collapsed to one digit here; these did not. The paper halves the learning rate when M_global stalls:
here it had flattened by step 20,000 (0.126 at 16,000, 0.124 at 20,000), so the rate halves every 20,000
updates. 32,000 steps; measured (seed 0, beside other trainings): FID-MNIST 64.1 at 16,000 steps, 61.0 at
20,000, 49.0 at 32,000 (experiments/README.md).
    python -m jaxgen.main --config=configs/began_small.py --workdir=runs/began_small
    python -m jaxgen.main --config=configs/began_small.py --workdir=runs/began_small --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "began",
        model={"arch": "small", "disc_code_dim": 32, "began_gamma": 1.0, "latent_dim": 62},
        optim={"lr": 2e-4, "schedule": "halving", "halve_every": 20_000},
        train={"batch_size": 64, "num_steps": 32_000},
    )
