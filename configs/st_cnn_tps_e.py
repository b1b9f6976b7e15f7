"""ST-CNN with a thin-plate-spline transformer on distorted MNIST "E" (Jaderberg et al. 2015,
arXiv:1506.02025, Table 1's ST-CNN TPS): configs/st_cnn_e.py with the localiser predicting where a 4 x 4 grid
of control points reads in the image, and the sampling grid the thin-plate spline through them.
    python -m jaxgen.main --config=configs/st_cnn_tps_e.py --workdir=runs/st_cnn_tps_e
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("e", spatial_transformer=True, transform="tps")
