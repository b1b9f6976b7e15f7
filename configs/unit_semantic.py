"""UNIT with CyCADA's semantic consistency (Hoffman et al. 2018, arXiv:1711.03213) for MNIST -> the UCI
handwritten digits; configs/unit.py otherwise. Nothing in UNIT's GAN, VAE and cycle losses says which digit
is which, and on one seed of three plain UNIT translated every UCI digit into a clean MNIST digit of
another class (31% of the UCI test digits classified, the source-only baseline 79%). Here the packaged MNIST
classifier, fixed, reads every translation: a UCI digit's translation into MNIST must show the digit it
reads on the UCI digit itself, an MNIST digit's translation into UCI its label (model.semantic_weight x
the two cross-entropies). Domain B's labels are still never read.
    python -m jaxgen.main --config=configs/unit_semantic.py --workdir=runs/unit_semantic
    python -m jaxgen.main --config=configs/unit_semantic.py --workdir=runs/unit_semantic --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "unit",
        model={"gan_weight": 1.0, "semantic_weight": 10.0},
        optim={"lr": 5e-4},
        train={"num_steps": 4000},
    )
