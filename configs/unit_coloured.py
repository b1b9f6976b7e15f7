"""UNIT with a style per domain for MNIST -> coloured digits (each digit's strokes and background in two
random colours). configs/unit.py otherwise. Plain UNIT's shared code cannot stand for a coloured digit:
its two colours have no counterpart in MNIST, so the coloured -> MNIST -> coloured cycle hid them in the
grey image and the coloured autoencoder drew blobs (8.51% of coloured test digits classified at 4000 steps,
the source-only baseline 15.16%). Here (model.style_dim, after MUNIT, Huang et al. 2018) each domain's
encoder also reads an 8-d style from the raw image, which scales and shifts that domain's own decoder
block; the content path reads each image instance-normalised, translations are written in styles drawn
from N(0, I) and cycles end in the image's own style. Reconstruction and cycle L1 weigh 1000: at the
paper's 100 the coloured reconstructions stayed blobs with styles too, and without styles the heavier
weight alone left the coloured digits at chance (experiments/README.md, UNIT with a style per domain).
    python -m jaxgen.main --config=configs/unit_coloured.py --workdir=runs/unit_coloured
    python -m jaxgen.main --config=configs/unit_coloured.py --workdir=runs/unit_coloured --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "unit",
        model={"gan_weight": 1.0, "style_dim": 8, "recon_weight": 1000.0, "cycle_weight": 1000.0},
        optim={"lr": 5e-4},
        data={"name_b": "", "domain_b": "coloured"},
        train={"num_steps": 4000},
    )
