"""The spatial transformer's grid and sampler against scipy's resampling, finite differences and geometry."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy import ndimage

from jaxgen import spatial


def random_theta(key, batch, spread=0.4):
    identity = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return identity + spread * jax.random.normal(key, (batch, 2, 3))


def test_identity_transform_returns_the_image():
    images = jax.random.uniform(jax.random.key(0), (2, 7, 9, 3))
    theta = jnp.tile(jnp.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (2, 1, 1))
    np.testing.assert_allclose(spatial.affine_warp(images, theta, 7, 9), images, atol=1e-6)


@pytest.mark.parametrize("out_size", [(7, 9), (12, 5)])
def test_sampler_equals_scipy_bilinear_resampling_with_zeros_outside(out_size):
    images = jax.random.uniform(jax.random.key(1), (3, 7, 9, 2))
    theta = random_theta(jax.random.key(2), 3)
    got = spatial.affine_warp(images, theta, *out_size)
    grid = np.asarray(spatial.affine_grid(theta, *out_size))
    for b in range(3):
        cols = ((grid[b, ..., 0] + 1.0) * 9 - 1.0) / 2.0
        rows = ((grid[b, ..., 1] + 1.0) * 7 - 1.0) / 2.0
        for c in range(2):
            expected = ndimage.map_coordinates(
                np.asarray(images[b, ..., c], np.float64),
                [rows, cols],
                order=1,
                mode="grid-constant",
                cval=0.0,
            )
            np.testing.assert_allclose(got[b, ..., c], expected, atol=1e-5)
    assert float(jnp.abs(got).sum()) > 0.0


def test_sampler_gradients_match_finite_differences_in_images_and_transform():
    """In float64 with a small step, so no sample point crosses a pixel boundary (where bilinear
    interpolation has kinks) between the finite differences."""
    with jax.enable_x64(True):
        images = jax.random.uniform(jax.random.key(3), (2, 6, 6, 1), jnp.float64)
        theta = random_theta(jax.random.key(4), 2, spread=0.2).astype(jnp.float64)
        check_grads(
            lambda x, t: spatial.affine_warp(x, t, 5, 5), (images, theta), order=1, modes=("rev",), eps=1e-6
        )


def test_similarity_rotates_counter_clockwise_scales_and_shifts():
    image = jnp.zeros((1, 8, 8, 1)).at[0, 3, 6, 0].set(1.0)  # right of the centre (between rows 3 and 4)
    quarter = spatial.similarity(jnp.array([jnp.pi / 2]), jnp.array([1.0]), jnp.zeros((1, 2)))
    turned = spatial.affine_warp(image, quarter, 8, 8)
    # a counter-clockwise quarter turn on screen takes (row 3, col 6) to (row 1, col 3): above the centre
    assert np.unravel_index(int(jnp.argmax(turned)), (8, 8)) == (1, 3)
    np.testing.assert_allclose(float(turned.max()), 1.0, atol=1e-5)
    half_size = spatial.similarity(jnp.zeros(1), jnp.array([0.5]), jnp.zeros((1, 2)))
    assert float(spatial.affine_warp(jnp.ones((1, 8, 8, 1)), half_size, 8, 8).sum()) == pytest.approx(16.0)
    shifted = spatial.similarity(jnp.zeros(1), jnp.ones(1), jnp.array([[0.5, 0.0]]))  # 2 pixels right
    left = jnp.zeros((1, 8, 8, 1)).at[0, 3, 2, 0].set(1.0)
    np.testing.assert_allclose(spatial.affine_warp(left, shifted, 8, 8), jnp.roll(left, 2, axis=2), atol=1e-6)


def test_homography_takes_the_four_points_where_asked_and_its_grid_generalises_the_affine_one():
    key_a, key_b, key_c = jax.random.split(jax.random.key(5), 3)
    source = jnp.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) + 0.1 * jax.random.normal(
        key_a, (3, 4, 2)
    )
    target = 0.8 * source + 0.15 * jax.random.normal(key_b, (3, 4, 2))
    matrix = spatial.homography(source, target)
    points = jnp.concatenate([source, jnp.ones((3, 4, 1))], -1) @ jnp.swapaxes(matrix, 1, 2)
    np.testing.assert_allclose(points[..., :2] / points[..., 2:], target, atol=1e-5)
    theta = random_theta(key_c, 3)  # an affine map is a projective one with last row (0, 0, 1)
    affine = jnp.concatenate([theta, jnp.tile(jnp.array([[[0.0, 0.0, 1.0]]]), (3, 1, 1))], axis=1)
    np.testing.assert_allclose(
        spatial.projective_grid(affine, 6, 5), spatial.affine_grid(theta, 6, 5), atol=1e-6
    )


def test_a_zero_displacement_grid_is_the_identity_and_one_pixel_moves_by_one_pixel():
    images = jax.random.uniform(jax.random.key(3), (2, 6, 8, 1))
    zero = jnp.zeros((2, 6, 8, 2))
    np.testing.assert_allclose(
        spatial.bilinear_sample(images, spatial.displaced_grid(zero)), images, atol=1e-6
    )
    right = zero.at[..., 0].set(1.0)  # every output pixel reads its right-hand neighbour
    shifted = spatial.bilinear_sample(images, spatial.displaced_grid(right))
    np.testing.assert_allclose(shifted[:, :, :-1], images[:, :, 1:], atol=1e-6)
    np.testing.assert_allclose(shifted[:, :, -1], 0.0, atol=1e-6)  # beyond the edge: zeros


def test_the_thin_plate_spline_interpolates_its_control_points_and_reproduces_affine_maps():
    control = spatial.tps_control_points(4)
    np.testing.assert_allclose(control[jnp.array([0, 3, 12, 15])], [[-1, -1], [1, -1], [-1, 1], [1, 1]])
    np.testing.assert_allclose(spatial.tps_matrix(control, control), np.eye(16), atol=1e-5)
    moved = control + 0.2 * jax.random.normal(jax.random.key(4), control.shape)
    np.testing.assert_allclose(spatial.tps_matrix(control, control) @ moved, moved, atol=1e-5)
    # an affine motion of the control points moves every pixel affinely: TPS adds no bending to it
    theta = random_theta(jax.random.key(5), 1, spread=0.2)
    affine_moved = control @ theta[0, :, :2].T + theta[0, :, 2]
    np.testing.assert_allclose(
        spatial.tps_grid(affine_moved[None], 6, 7), spatial.affine_grid(theta, 6, 7), atol=1e-5
    )


def test_a_bent_thin_plate_spline_moves_the_pixels_near_the_moved_point_most():
    control = spatial.tps_control_points(4)
    moved = jnp.asarray(control).at[5].add(jnp.array([0.3, 0.0]))  # one inner control point, to the right
    shift = spatial.tps_grid(moved[None], 16, 16)[0] - spatial.tps_grid(control[None], 16, 16)[0]
    near = shift[5, 5, 0]  # the pixel nearest that point (-1/3, -1/3)
    assert 0.2 < float(near) <= 0.3 + 1e-6
    assert float(jnp.abs(shift[15, 15]).max()) < 0.1 * float(near)  # the far corner barely moves
