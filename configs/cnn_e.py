"""The CNN baseline of the spatial transformer paper's distorted MNIST "E" (Jaderberg et al. 2015,
arXiv:1506.02025, Table 1: 1.4% error): the seeds' classifier on digits each given its own distortion, an
elastic warp (Simard et al. 2003: a field blurred by a 4 px Gaussian, scaled by 34)
(`data.domain_a=distorted_e`, jaxgen/data/domains.py).
    python -m jaxgen.main --config=configs/cnn_e.py --workdir=runs/cnn_e
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("e", spatial_transformer=False)
