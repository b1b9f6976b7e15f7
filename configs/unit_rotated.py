"""UNIT with matched labels for MNIST -> MNIST turned by a quarter (domain B: the second half of MNIST
train, rotated 90 degrees; configs/unit.py otherwise). UNIT's GAN, VAE and cycle losses are met by any
one-to-one matching of the two domains' digits, and plain UNIT read 35.39%, 12.00% and 14.74% of the rotated
test digits (seeds 0-2; the source-only classifier 14.05%): nothing in them says which turned shape is
which digit. Here domain B's training images are first labelled by Gromov-Wasserstein matching of 2,000
images per domain (jaxgen/data/matching.py: the two sets are matched by the distances within each, which a
quarter turn keeps; it reads domain A's labels and both domains' images, no label of B), and the latent
classifier learns those labels on B's codes beside A's labels on A's (model.matched_weight).
    python -m jaxgen.main --config=configs/unit_rotated.py --workdir=runs/unit_rotated
    python -m jaxgen.main --config=configs/unit_rotated.py --workdir=runs/unit_rotated --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "unit",
        data={"name_b": "", "domain_b": "rotated", "match_b": "gromov_wasserstein"},
        model={"gan_weight": 1.0, "matched_weight": 10.0},
        optim={"lr": 5e-4},
        train={"num_steps": 4000},
    )
