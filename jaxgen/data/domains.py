"""Image domains derived from a dataset by pure, jittable transforms.

They give two-domain models their second domain (`data.domain_b`: CoGAN's digits -> edges and digits ->
negatives, rotated, thickened or coloured digits) and can restyle the first (`data.domain_a`: e.g. the
randomly rotated digits of the spatial transformer paper). A transform maps float images [B, S, S, C] in
[0, 1] and one key per image [B] to images [B, S, S, C'] in [0, 1];
`derive` applies one to a whole uint8 split with the keys fold_in(key(DOMAIN_SEED), index), so what an
image becomes depends on its index only, never on the run's seed or the chunking.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import spatial
from jaxgen.metrics import map_chunks

Transform = Callable[[jax.Array, jax.Array], jax.Array]
DOMAIN_SEED = 0xD0A1  # the per-image keys of random transforms (the coloured digits' colours)
CHUNK = 1000


def original(images: jax.Array, keys: jax.Array) -> jax.Array:
    """The images as loaded."""
    del keys
    return images


def negative(images: jax.Array, keys: jax.Array) -> jax.Array:
    """1 - x: white digits on black become black on white (CoGAN's digits / negatives task)."""
    del keys
    return 1.0 - images


def _window(images: jax.Array, reduce, init: float) -> jax.Array:
    """A 3x3 neighbourhood reduction (max: dilation, min: erosion) with the image size kept."""
    return jax.lax.reduce_window(images, init, reduce, (1, 3, 3, 1), (1, 1, 1, 1), "SAME")


def thick(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Thickened strokes: a 3x3 morphological dilation."""
    del keys
    return _window(images, jax.lax.max, -jnp.inf)


def edges(images: jax.Array, keys: jax.Array) -> jax.Array:
    """The strokes' outlines: the morphological gradient, dilation minus erosion (CoGAN's digits / edges)."""
    del keys
    return _window(images, jax.lax.max, -jnp.inf) - _window(images, jax.lax.min, jnp.inf)


def rotated(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Rotated by 90 degrees counter-clockwise."""
    del keys
    return jnp.rot90(images, k=1, axes=(1, 2))


def distorted_r(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Rotated MNIST "R" of the spatial transformer paper (Jaderberg et al. 2015): each image turned about
    its centre by its own angle, uniform in (-90, 90) degrees, resampled bilinearly (zeros come in at the
    corners)."""
    angles = jax.vmap(lambda k: jax.random.uniform(k, minval=-jnp.pi / 2, maxval=jnp.pi / 2))(keys)
    n = images.shape[0]
    theta = spatial.similarity(angles, jnp.ones(n), jnp.zeros((n, 2)))
    return spatial.affine_warp(images, theta, images.shape[1], images.shape[2])


def coloured(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Grey images -> RGB: each image's strokes and background get their own random colours; every channel
    of the background is shifted from the stroke's by 0.3 to 0.7 (mod 1), so the digit always shows."""

    def colours(key):
        fore_key, shift_key = jax.random.split(key)
        fore = jax.random.uniform(fore_key, (3,))
        return fore, jnp.mod(fore + jax.random.uniform(shift_key, (3,), minval=0.3, maxval=0.7), 1.0)

    fore, back = jax.vmap(colours)(keys)  # [B, 3] each
    grey = jnp.mean(images, axis=-1, keepdims=True)
    return grey * fore[:, None, None, :] + (1.0 - grey) * back[:, None, None, :]


DOMAINS: dict[str, Transform] = {
    "original": original,
    "negative": negative,
    "edges": edges,
    "rotated": rotated,
    "thick": thick,
    "coloured": coloured,
    "distorted_r": distorted_r,
}


def output_shape(name: str, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """The image shape domain `name` makes of images of this shape (traced only, nothing computed)."""

    def transform(images):
        return DOMAINS[name](images, jax.random.split(jax.random.key(0), images.shape[0]))

    return tuple(jax.eval_shape(transform, jax.ShapeDtypeStruct((1, *shape), jnp.float32)).shape[1:])


def derive(name: str, images: np.ndarray, first_index: int = 0) -> np.ndarray:
    """Domain `name` of uint8 images [N, S, S, C] -> uint8 [N, S, S, C']; image i gets the key
    fold_in(key(DOMAIN_SEED), first_index + i)."""
    if name == "original":
        return images
    if not len(images):  # an empty split (no validation images): keep the domain's channel count
        return derive(name, np.zeros((1, *images.shape[1:]), np.uint8))[:0]
    indices = np.arange(first_index, first_index + len(images), dtype=np.int32)
    return np.asarray(_derive(name, jnp.asarray(images), jnp.asarray(indices)))


@functools.partial(jax.jit, static_argnums=0)
def _derive(name: str, images: jax.Array, indices: jax.Array) -> jax.Array:
    root = jax.random.key(DOMAIN_SEED)

    def one_chunk(rows):
        x, index = rows
        keys = jax.vmap(lambda i: jax.random.fold_in(root, i))(index)
        out = DOMAINS[name](x.astype(jnp.float32) / 255.0, keys)
        return jnp.round(jnp.clip(out, 0.0, 1.0) * 255.0).astype(jnp.uint8)

    return map_chunks(one_chunk, (images, indices), CHUNK)
