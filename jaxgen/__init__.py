"""jaxgen: classic generative models of images as pure JAX/Flax functions on one shared trainer."""

__version__ = "0.1.0"
