"""CoGAN (Liu & Tuzel 2016, arXiv:1606.07536), the paper's digits / edges task: two DCGAN generators that
share all but their output layers and two discriminators that share all but their first, trained on
unpaired MNIST and edge images (each from its own half of MNIST train); one noise vector then draws the
same digit in both domains. Adam 2e-4, beta1 0.5, batch 64, width 32 for the CPU, 6000 steps.
    python -m jaxgen.main --config=configs/cogan.py --workdir=runs/cogan
    python -m jaxgen.main --config=configs/cogan.py --workdir=runs/cogan --mode=eval   # pixel agreement
The digits / negatives task: configs/cogan_negative.py.
"""

from jaxgen.config import base_config


def get_config():
    return base_config("cogan", model={"width": 32})
