"""UNIT (Liu, Breuel & Kautz 2017, arXiv:1703.00848), "Unsupervised Image-to-Image Translation Networks":
two VAE-GANs whose encoders share their high-level layers and whose decoders share their first layers,
so both domains are written from one latent space; cycle consistency through it. Domain adaptation: a
digit classifier on the shared latent learns from MNIST's labels (domain A) and reads the UCI handwritten
digits (domain B, other writers and scanner; no label of theirs is ever used) through their codes.
Adam betas (0.5, 0.999), batch 64, the paper's KL 0.1, L1 100, cycle KL 0.1 and cycle L1 100; width 32
and a 128-dimensional latent for the CPU. Two departures, measured on MNIST -> edges
(experiments/results/unit_tuning/): the paper's GAN weight 10 and learning rate 1e-4 left every
translation one blob (8.7% on the target at 800 steps); learning rate 5e-4 with GAN weight 10, 3 and 1
gave 52.4%, 71.1% and 86.7% at 1000 steps. So: learning rate 5e-4, GAN weight 1. 4000 steps (about half an
hour of a 2-core CPU to itself): on thickened digits the latent classifier read 95.94 +- 0.15% at 2000 steps
(behind the source-only 96.41%) and 97.07 +- 0.38% at 4000, three seeds each.
    python -m jaxgen.main --config=configs/unit.py --workdir=runs/unit
    python -m jaxgen.main --config=configs/unit.py --workdir=runs/unit --mode=eval   # test_b_accuracy
Other targets: --config.data.name_b='' --config.data.domain_b=edges (negative, rotated, thick, coloured):
domain B is then the second half of MNIST train, transformed. experiments/adaptation.py runs them all.
--config.model.adapt_with=discriminator: the authors' adaptation code's classifier instead, on the
discriminators' shared layers (experiments/README.md compares the two). On the UCI digits this config's
latent classifier read fewer digits than the source-only baseline (77.78%, 30.89%, 77.11% at 4000 steps,
seeds 0-2, against 79.11%; seed 1 permuted the digits); configs/unit_semantic.py adds CyCADA's semantic
consistency and is the UCI target's config in experiments/adaptation.py.
"""

from jaxgen.config import base_config


def get_config():
    return base_config("unit", model={"gan_weight": 1.0}, optim={"lr": 5e-4}, train={"num_steps": 4000})
