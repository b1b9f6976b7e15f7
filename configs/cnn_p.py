"""The CNN baseline of the spatial transformer paper's distorted MNIST "P" (Jaderberg et al. 2015,
arXiv:1506.02025, Table 1: 1.5% error): the seeds' classifier on digits each given its own distortion, a
random projective transformation: shrunk to 0.75 and each corner moved by N(0, 5 px)
(`data.domain_a=distorted_p`, jaxgen/data/domains.py).
    python -m jaxgen.main --config=configs/cnn_p.py --workdir=runs/cnn_p
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("p", spatial_transformer=False)
