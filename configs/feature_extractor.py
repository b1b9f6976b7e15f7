"""The metrics' feature extractor: the seed CNN at a quarter of its width (conv 16/32/64/128).

Narrow so that its weights (0.7 MB) ship inside the package; 512 penultimate features. Build the packaged
weights (trains here, then writes jaxgen/assets/mnist_classifier.npz and its .json record):
    python -m jaxgen.features --workdir=runs/feature_extractor
It is an ordinary classifier config too:
    python -m jaxgen.main --config=configs/feature_extractor.py --workdir=runs/feature_extractor
"""

from jaxgen.config import base_config


def get_config():
    return base_config("classifier", model={"width": 16})
