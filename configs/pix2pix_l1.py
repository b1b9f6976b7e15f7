"""The pix2pix paper's L1-only baseline: the same U-Net trained on L1 to the target alone (no
discriminator), so that configs/pix2pix.py's GAN term can be judged against it.
    python -m jaxgen.main --config=configs/pix2pix_l1.py --workdir=runs/pix2pix_l1
"""

from jaxgen.config import base_config


def get_config():
    return base_config("pix2pix", model={"width": 32, "gan_weight": 0.0})
