"""BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717) with the paper's networks (Fig. 1): an
autoencoder discriminator of 3x3 convs with ELU, no BatchNorm, sub-sampling by stride-2 convs and
nearest-neighbour up-sampling, embedding h = 64, z of 64 uniform on (-1, 1) (model.noise), n = model.width
filters; scored by its L1 reconstruction error, with the equilibrium control k_t (gamma 0.5, lambda_k
0.001, k_0 = 0) and the convergence measure M_global in the log; Adam 1e-4, batch 16, as the paper. The
paper decays the learning rate when M_global stalls: --config.optim.schedule=halving
--config.optim.halve_every=N. --config.model.began_skip=True adds the paper's skip connections (h0
up-sampled to every decoder scale).
model.arch=dcgan gives the DCGAN stacks instead (the earlier networks, which collapsed to one digit).
Both collapsed to one digit on MNIST here; configs/began_small.py (the playground's small networks) did not.
    python -m jaxgen.main --config=configs/began.py --workdir=runs/began
"""

from jaxgen.config import base_config


def get_config():
    return base_config("began")
