"""jaxgen: classic generative models of images as pure JAX/Flax functions on one shared trainer.

import jaxgen
model = jaxgen.load("runs/gan")   # a trained workdir
images = model.sample(16)
"""

__version__ = "0.1.0"


def load(workdir):
    """The model trained in workdir (jaxgen.trained.load): sample, reconstruct, encode, classify."""
    from jaxgen.trained import load as load_trained  # imports JAX only when used

    return load_trained(workdir)
