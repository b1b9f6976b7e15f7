"""CycleGAN (Zhu et al. 2017, arXiv:1703.10593) on unpaired digits: MNIST <-> edges (data.domain_b), each
domain from its own half of MNIST train, so no digit is ever seen in both. ResNet generators (3 residual
blocks at 32x32; the paper has 6 at 128x128), PatchGANs reading fakes through a history pool of 50,
least-squares GAN losses, cycle loss 10, identity loss 5 (on [0, 1] pixels: half the paper's weights, which
are on [-1, 1] pixels; the paper's scale, 20 and 10 here, did worse in one run, experiments/README.md); Adam
2e-4, beta1 0.5, the paper's schedule (the rate held for the first half, then linear to 0:
optim.schedule=linear_tail); batch 8 (the paper: 1), width 32 for the CPU; 16,000 steps, about two hours
of a 2-core CPU to itself (edges -> MNIST 92.61% at 4000, 94.20% at 8000, 95.67% at 16,000, each on its own
schedule), evaluated at 8000 and at the end (each pass translates the test set four times).
    python -m jaxgen.main --config=configs/cyclegan.py --workdir=runs/cyclegan
    python -m jaxgen.main --config=configs/cyclegan.py --workdir=runs/cyclegan --mode=eval   # both ways
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "cyclegan",
        model={"width": 32},
        optim={"schedule": "linear_tail"},
        train={"num_steps": 16_000, "eval_every": 8000},
    )
