"""ST-CNN on distorted MNIST "E" (Jaderberg et al. 2015, arXiv:1506.02025, Table 1: 1.2% error with an
affine transformer): configs/cnn_e.py with an affine spatial transformer in front of the same CNN.
    python -m jaxgen.main --config=configs/st_cnn_e.py --workdir=runs/st_cnn_e
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("e", spatial_transformer=True)
