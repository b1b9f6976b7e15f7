"""The CNN baseline of the spatial transformer paper's distorted MNIST "R" (Jaderberg et al. 2015,
arXiv:1506.02025, Table 1: 1.2% error): the seeds' classifier on digits each turned by its own random
angle in (-90, 90) degrees, training and test images alike (`data.domain_a=distorted_r`).
    python -m jaxgen.main --config=configs/cnn_r.py --workdir=runs/cnn_r
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("r", spatial_transformer=False)
