"""ST-FCN on distorted MNIST "E" (Jaderberg et al. 2015, arXiv:1506.02025, Table 1): the paper's
fully connected baseline in place of the CNN of configs/st_cnn_e.py
(sizes ours: two ReLU layers of 256 units; the localiser is fully connected too: two ReLU layers of 32 units).
    python -m jaxgen.main --config=configs/st_fcn_e.py --workdir=runs/st_fcn_e
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("e", spatial_transformer=True, arch="fcn")
