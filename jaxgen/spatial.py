"""Differentiable resampling of images: the grid generator and bilinear sampler of a spatial transformer
(Jaderberg et al. 2015, arXiv:1506.02025), in pure jnp, so the distortions of the data and a model's
learned transform share one implementation.

Coordinates are normalised as PyTorch's `affine_grid(align_corners=False)`: x runs over the columns and y
over the rows, from -1 at the outer edge of the first pixel to 1 at the outer edge of the last, so the
pixel centres of a width-W image sit at (2j + 1) / W - 1. A transform theta [B, 2, 3] maps each output
pixel's normalised (x, y, 1) to the source point it reads; source points outside the image read zeros.
A thin-plate spline (tps_grid) maps them through where a grid of control points reads instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def pixel_centres(size: int) -> jax.Array:
    """Normalised coordinates [size] of the pixel centres along one axis."""
    return (2.0 * jnp.arange(size, dtype=jnp.float32) + 1.0) / size - 1.0


def affine_grid(theta: jax.Array, height: int, width: int) -> jax.Array:
    """theta [B, 2, 3] -> the source points [B, height, width, 2] (x, y) the output pixels read."""
    ys, xs = jnp.meshgrid(pixel_centres(height), pixel_centres(width), indexing="ij")
    points = jnp.stack([xs, ys, jnp.ones_like(xs)], axis=-1)  # [H, W, 3]
    return jnp.einsum("hwk,bjk->bhwj", points, theta)


def bilinear_sample(images: jax.Array, grid: jax.Array) -> jax.Array:
    """images [B, H, W, C] read at the normalised points grid [B, Ho, Wo, 2] -> [B, Ho, Wo, C].

    Bilinear interpolation between the four nearest pixels; the image is zero beyond its edges (a point
    half a pixel outside reads half the edge pixel). Differentiable in the images and in the points."""
    _, height, width, _ = images.shape
    col = ((grid[..., 0] + 1.0) * width - 1.0) / 2.0  # pixel coordinates of the points
    row = ((grid[..., 1] + 1.0) * height - 1.0) / 2.0
    col0, row0 = jnp.floor(col), jnp.floor(row)
    out = 0.0
    for d_row in (0, 1):
        for d_col in (0, 1):
            r, c = row0 + d_row, col0 + d_col
            weight = (1.0 - jnp.abs(row - r)) * (1.0 - jnp.abs(col - c))  # [B, Ho, Wo]
            inside = (r >= 0) & (r <= height - 1) & (c >= 0) & (c <= width - 1)
            r_idx = jnp.clip(r, 0, height - 1).astype(jnp.int32)
            c_idx = jnp.clip(c, 0, width - 1).astype(jnp.int32)
            values = jax.vmap(lambda image, ri, ci: image[ri, ci])(images, r_idx, c_idx)  # [B, Ho, Wo, C]
            out = out + jnp.where(inside, weight, 0.0)[..., None] * values
    return out


def affine_warp(images: jax.Array, theta: jax.Array, height: int, width: int) -> jax.Array:
    """images [B, H, W, C] resampled by theta [B, 2, 3] onto a height x width output."""
    return bilinear_sample(images, affine_grid(theta, height, width))


def similarity(angle: jax.Array, scale: jax.Array, shift: jax.Array) -> jax.Array:
    """theta [B, 2, 3] that draws the source rotated by `angle` [B] (radians, counter-clockwise on screen),
    enlarged by `scale` [B] and moved by `shift` [B, 2] (normalised x, y of the output): the inverse map,
    from output points to source points."""
    cos, sin = jnp.cos(angle) / scale, jnp.sin(angle) / scale
    # y grows downwards on screen, so a counter-clockwise turn on screen is clockwise in (x, y)
    linear = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)  # [B, 2, 2]
    offset = -jnp.einsum("bij,bj->bi", linear, shift)
    return jnp.concatenate([linear, offset[..., None]], axis=-1)


def homography(source: jax.Array, target: jax.Array) -> jax.Array:
    """The projective maps [B, 3, 3] (last entry 1) that take the four points source [B, 4, 2] to
    target [B, 4, 2]: the usual 8 x 8 linear system, one per batch row."""

    def one(src, dst):
        x, y = src[:, 0], src[:, 1]
        u, v = dst[:, 0], dst[:, 1]
        zero, one_ = jnp.zeros(4), jnp.ones(4)
        rows_u = jnp.stack([x, y, one_, zero, zero, zero, -u * x, -u * y], -1)
        rows_v = jnp.stack([zero, zero, zero, x, y, one_, -v * x, -v * y], -1)
        h = jnp.linalg.solve(jnp.concatenate([rows_u, rows_v]), jnp.concatenate([u, v]))
        return jnp.append(h, 1.0).reshape(3, 3)

    return jax.vmap(one)(source, target)


def projective_grid(matrix: jax.Array, height: int, width: int) -> jax.Array:
    """matrix [B, 3, 3] -> the source points [B, height, width, 2] the output pixels read: each output
    pixel's normalised (x, y, 1) times the matrix, divided by its third coordinate."""
    ys, xs = jnp.meshgrid(pixel_centres(height), pixel_centres(width), indexing="ij")
    points = jnp.einsum("hwk,bjk->bhwj", jnp.stack([xs, ys, jnp.ones_like(xs)], axis=-1), matrix)
    return points[..., :2] / points[..., 2:]


def gaussian_blur_matrix(size: int, sigma: float) -> jax.Array:
    """[size, size]: multiplying a signal of `size` samples by it blurs it with a normalised Gaussian of
    std `sigma` samples, zeros beyond the ends (scipy's gaussian_filter with mode='constant')."""
    offsets = jnp.arange(size, dtype=jnp.float32)[:, None] - jnp.arange(size, dtype=jnp.float32)[None, :]
    radius = jnp.arange(-4 * sigma, 4 * sigma + 1, dtype=jnp.float32)  # the kernel's full mass
    norm = jnp.sum(jnp.exp(-0.5 * (radius / sigma) ** 2))
    return jnp.exp(-0.5 * (offsets / sigma) ** 2) * (jnp.abs(offsets) <= 4 * sigma) / norm


def displaced_grid(displacement: jax.Array) -> jax.Array:
    """displacement [B, H, W, 2] in pixels (x, y) -> the normalised source points [B, H, W, 2] of each
    output pixel moved by it (an elastic warp's sampling grid)."""
    _, height, width, _ = displacement.shape
    ys, xs = jnp.meshgrid(pixel_centres(height), pixel_centres(width), indexing="ij")
    scale = jnp.array([2.0 / width, 2.0 / height])
    return jnp.stack([xs, ys], axis=-1) + displacement * scale


def tps_control_points(n: int) -> np.ndarray:
    """[n * n, 2] (x, y): a regular n x n grid of thin-plate-spline control points spanning [-1, 1]."""
    ticks = np.linspace(-1.0, 1.0, n)
    ys, xs = np.meshgrid(ticks, ticks, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(np.float32)


def _tps_radial(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """U(r) = r^2 log r^2 between every point of a [N, 2] and of b [K, 2] -> [N, K] (U(0) = 0)."""
    r2 = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)
    return np.where(r2 > 0, r2 * np.log(np.where(r2 > 0, r2, 1.0)), 0.0)


def tps_matrix(points: np.ndarray, control: np.ndarray) -> np.ndarray:
    """[N, K]: the linear map from where the K control points [K, 2] read in the source to where the N
    points [N, 2] read, under the thin-plate spline (Bookstein 1989) through those K pairs.

    The spline's coefficients solve L [w; a] = [source; 0] with L = [[U(c_i, c_j), P], [P^T, 0]], P = [1, c];
    L depends on the control points alone, so a batch of transforms is one matmul by this constant (built
    in float64 on the host: in float32 the identity spline was off by 1e-6 of the image width)."""
    points, control = np.asarray(points, np.float64), np.asarray(control, np.float64)
    k = control.shape[0]
    p = np.concatenate([np.ones((k, 1)), control], axis=1)  # [K, 3]
    system = np.block([[_tps_radial(control, control), p], [p.T, np.zeros((3, 3))]])
    basis = np.concatenate([_tps_radial(points, control), np.ones((len(points), 1)), points], axis=1)
    return (basis @ np.linalg.inv(system)[:, :k]).astype(np.float32)


def tps_grid(source: jax.Array, height: int, width: int) -> jax.Array:
    """source [B, K, 2]: where the n x n control points of tps_control_points read -> the source points
    [B, height, width, 2] the output pixels read."""
    n = round(source.shape[1] ** 0.5)
    if n * n != source.shape[1]:
        raise ValueError(f"tps_grid needs an n x n grid of control points, got {source.shape[1]}")
    centres = [(2.0 * np.arange(size) + 1.0) / size - 1.0 for size in (height, width)]  # pixel_centres
    ys, xs = np.meshgrid(*centres, indexing="ij")
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=-1)  # [HW, 2]
    matrix = tps_matrix(pixels, tps_control_points(n))
    return jnp.einsum("pk,bkj->bpj", matrix, source).reshape(source.shape[0], height, width, 2)
