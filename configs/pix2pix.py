"""pix2pix (Isola et al. 2017, arXiv:1611.07004) on paired digits: MNIST -> their edges (data.domain_b; any
domain of jaxgen/data/domains.py, e.g. coloured). U-Net generator, PatchGAN on (input, output) pairs, GAN
loss + 100 x L1, Adam 2e-4 with beta1 0.5 as the paper; batch 32, width 32 for the CPU.
    python -m jaxgen.main --config=configs/pix2pix.py --workdir=runs/pix2pix
    python -m jaxgen.main --config=configs/pix2pix.py --workdir=runs/pix2pix --mode=eval   # L1, SSIM, digits
The L1-only U-Net baseline of the paper is configs/pix2pix_l1.py.
"""

from jaxgen.config import base_config


def get_config():
    return base_config("pix2pix", model={"width": 32})
