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


RTS_CANVAS = 42  # the side of the canvas the RTS digits are placed on (the paper's 42 x 42)
# the side of the RTS images: the canvas zero-padded, as MNIST's 28 x 28 is to 32 x 32, so that every k4 s2
# conv of a stack sees an even map (42 -> 21 gave odd maps: an ST-CNN step ran 2.97 steps/s at 42 x 42 on
# the CPU, 9.9 at 48 x 48)
RTS_FRAME = 48


def distorted_rts(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Distorted MNIST "RTS" of the spatial transformer paper: each image turned by its own angle uniform in
    (-45, 45) degrees, scaled by a factor uniform in (0.7, 1.2) and placed at a uniform random position
    of a 42 x 42 canvas where the scaled image's square still fits (its centre when it does not); the
    canvas sits in the middle of a 48 x 48 image."""
    size = images.shape[1]

    def draw(key):
        angle_key, scale_key, shift_key = jax.random.split(key, 3)
        angle = jax.random.uniform(angle_key, minval=-jnp.pi / 4, maxval=jnp.pi / 4)
        scale = jax.random.uniform(scale_key, minval=0.7, maxval=1.2)
        room = jnp.maximum(RTS_CANVAS - scale * size, 0.0) / 2.0  # pixels the centre may move each way
        return angle, scale, jax.random.uniform(shift_key, (2,), minval=-room, maxval=room)

    angles, scales, shifts = jax.vmap(draw)(keys)
    # the sampler's coordinates run over each image's own side: a pixel scale s is s * size / frame
    theta = spatial.similarity(angles, scales * size / RTS_FRAME, shifts * 2.0 / RTS_FRAME)
    return spatial.affine_warp(images, theta, RTS_FRAME, RTS_FRAME)


PROJECTIVE_SHRINK = 0.75  # the image is shrunk about its centre before its corners move
PROJECTIVE_CORNER_STD = 5.0  # pixels each corner moves, per axis


def distorted_p(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Distorted MNIST "P": a random projective transformation of each image, made by shrinking it to
    0.75 of its side about the centre and then moving each of its four corners by its own N(0, 5 px)
    offset per axis (the values are ours: the paper's appendix, with its recipe, could not be consulted)."""
    size = images.shape[1]
    corners = jnp.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    moves = jax.vmap(lambda k: jax.random.normal(k, (4, 2)))(keys) * PROJECTIVE_CORNER_STD * 2.0 / size
    placed = PROJECTIVE_SHRINK * corners + moves  # where each source corner lands in the output
    # the sampler needs the inverse map: output points -> source points
    matrix = spatial.homography(placed, jnp.broadcast_to(corners, placed.shape))
    return spatial.bilinear_sample(images, spatial.projective_grid(matrix, size, images.shape[2]))


ELASTIC_ALPHA = 34.0  # pixels of displacement before smoothing (Simard et al. 2003's MNIST value)
ELASTIC_SIGMA = 4.0  # the smoothing Gaussian's std in pixels (ditto)


def distorted_e(images: jax.Array, keys: jax.Array) -> jax.Array:
    """Distorted MNIST "E": an elastic warp (Simard et al. 2003): a displacement field uniform in (-1, 1)
    per pixel and axis, blurred by a Gaussian of std 4 px and scaled by 34, moves the point each output
    pixel reads."""
    _, height, width, _ = images.shape
    noise = jax.vmap(lambda k: jax.random.uniform(k, (height, width, 2), minval=-1.0, maxval=1.0))(keys)
    rows = spatial.gaussian_blur_matrix(height, ELASTIC_SIGMA)
    cols = spatial.gaussian_blur_matrix(width, ELASTIC_SIGMA)
    field = ELASTIC_ALPHA * jnp.einsum("ij,bjkc,lk->bilc", rows, noise, cols)
    return spatial.bilinear_sample(images, spatial.displaced_grid(field))


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
    "distorted_rts": distorted_rts,
    "distorted_p": distorted_p,
    "distorted_e": distorted_e,
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


def redraw(name: str, images: jax.Array, keys: jax.Array) -> jax.Array:
    """Float images [B, S, S, C] in [0, 1] through domain `name` with these per-image keys, on the same
    256 grey levels as a derived split (data.redraw_domain_a's fresh training draws)."""
    return _quantise(DOMAINS[name](images, keys)) / 255.0


def _quantise(images: jax.Array) -> jax.Array:
    """[0, 1] floats -> their nearest of the 256 levels of a uint8 image, still float."""
    return jnp.round(jnp.clip(images, 0.0, 1.0) * 255.0)


@functools.partial(jax.jit, static_argnums=0)
def _derive(name: str, images: jax.Array, indices: jax.Array) -> jax.Array:
    root = jax.random.key(DOMAIN_SEED)

    def one_chunk(rows):
        x, index = rows
        keys = jax.vmap(lambda i: jax.random.fold_in(root, i))(index)
        return _quantise(DOMAINS[name](x.astype(jnp.float32) / 255.0, keys)).astype(jnp.uint8)

    return map_chunks(one_chunk, (images, indices), CHUNK)
