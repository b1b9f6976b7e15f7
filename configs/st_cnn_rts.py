"""ST-CNN on distorted MNIST "RTS" (Jaderberg et al. 2015, arXiv:1506.02025, Table 1: 0.5% error with an
affine transformer): configs/cnn_rts.py with an affine spatial transformer in front of the same CNN, trained
20 epochs like it (at 10 epochs its error was still falling: 0.84 +- 0.05% over three seeds).
    python -m jaxgen.main --config=configs/st_cnn_rts.py --workdir=runs/st_cnn_rts
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("rts", spatial_transformer=True, epochs=20)
