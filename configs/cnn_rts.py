"""The CNN baseline of the spatial transformer paper's distorted MNIST "RTS" (Jaderberg et al. 2015,
arXiv:1506.02025, Table 1: 0.8% error): the seeds' classifier on digits each given its own distortion,
rotated by up to 45 degrees, scaled by 0.7-1.2 and placed at random on a 42 x 42 canvas (padded to 48 x 48)
(`data.domain_a=distorted_rts`, jaxgen/data/domains.py), over 20 epochs (the other distortions: 10).
    python -m jaxgen.main --config=configs/cnn_rts.py --workdir=runs/cnn_rts
"""

from jaxgen.models.classifier import distorted_mnist_config


def get_config():
    return distorted_mnist_config("rts", spatial_transformer=False, epochs=20)
