"""Config-block pieces that several families share, each field defined once with its comment.

A family's `options()` builds its `model` block from these and its own fields; `jaxgen.config` adds the
block to the base config and validates it with the rules of the family's `ModelSpec`.
"""

from __future__ import annotations

import ml_collections

CONV_POSITIVE = ("width", "latent_dim")
MLP_POSITIVE = ("hidden", "depth")


def block(**fields) -> ml_collections.ConfigDict:
    """A model block holding `fields` (for a family's own fields, commented where the family sets them)."""
    return ml_collections.ConfigDict(fields)


def conv_net(width: int = 64, latent_dim: int | None = 100) -> ml_collections.ConfigDict:
    """Fields of the DCGAN-style conv networks."""
    o = ml_collections.ConfigDict()
    o.width = width  # channels of the first conv layer; later layers double them
    if latent_dim is not None:
        o.latent_dim = latent_dim  # size of the noise / code vector
    return o


def mlp_net(
    o: ml_collections.ConfigDict, hidden: int, depth: int, crop: int = 2
) -> ml_collections.ConfigDict:
    """Add the fields of MLP networks on the digit's pixels to block o."""
    o.hidden = hidden  # units of each hidden layer of the MLP networks
    o.depth = depth  # hidden layers of the MLP networks (before the output layer)
    o.crop = crop  # pixels cut from each border before an MLP / in the loss (2: MNIST's 28x28 in the 32x32)
    return o


def crop_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    """model.crop must leave pixels of the data's images, and cut only a border the data leaves blank: the
    cropped pixels are written as 0, so a domain that paints them (negatives, coloured digits) would get a
    black frame that no loss sees."""
    if model.crop < 0 or 2 * model.crop >= data.image_size:
        return (
            f"model.crop={model.crop} must be >= 0 and leave pixels of a "
            f"{data.image_size}x{data.image_size} image"
        )
    if model.crop > 0 and _paints_border(data.domain_a, data.image_size, model.crop):
        return (
            f"model.crop={model.crop} cuts a border that data.domain_a={data.domain_a!r} fills; "
            "set model.crop=0 to model the whole image"
        )
    return None


def _paints_border(domain: str, size: int, crop: int) -> bool:
    """Whether the domain's transform of a blank image has ink within `crop` pixels of its edge."""
    import jax  # here, so that building a config imports no array library until it checks one
    import numpy as np

    from jaxgen.data import domains

    if domain not in domains.DOMAINS:
        return False  # the data check names an unknown domain
    blank = jax.numpy.zeros((1, size, size, 1))
    image = np.asarray(domains.DOMAINS[domain](blank, jax.random.split(jax.random.key(0), 1)))[0]
    inside = image[crop : image.shape[0] - crop, crop : image.shape[1] - crop]
    return bool(np.abs(image).sum() > np.abs(inside).sum())


def first_problem(*problems: str | None) -> str | None:
    """The first of several checks' messages that is not None."""
    return next((p for p in problems if p), None)
