"""pix2pix (Isola et al. 2017, arXiv:1611.07004) from MNIST to coloured digits: each digit's strokes and
background get random colours that depend on the image, not on its pixels, so the target is not a function
of the input. At the paper's L1 weight of 100 the generator then writes the average colour under strokes
and background alike and loses the digit (16.5% preserved); at 10 the pair discriminator keeps the strokes.
configs/pix2pix.py otherwise (U-Net, PatchGAN on pairs, Adam 2e-4, beta1 0.5, batch 32, width 32), 4000 steps.
    python -m jaxgen.main --config=configs/pix2pix_coloured.py --workdir=runs/pix2pix_coloured
    python -m jaxgen.main --config=configs/pix2pix_coloured.py --workdir=runs/pix2pix_coloured --mode=eval
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "pix2pix",
        model={"width": 32, "l1_weight": 10.0},
        data={"domain_b": "coloured"},
        train={"num_steps": 4000},
    )
