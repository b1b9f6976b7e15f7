"""ST-CNN on distorted MNIST "R" (Jaderberg et al. 2015, arXiv:1506.02025, Table 1: 0.7% error with an
affine transformer): configs/cnn_r.py with an affine spatial transformer in front of the same CNN; the
samples/rectified_*.png grids show test digits (odd rows) above what the transformer makes of them.
    python -m jaxgen.main --config=configs/st_cnn_r.py --workdir=runs/st_cnn_r
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("r", spatial_transformer=True)
