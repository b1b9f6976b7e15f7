"""Derived image domains: pure transforms with the values they promise, deterministic per image index."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import synthetic_arrays, write_idx_dir

from jaxgen import spatial
from jaxgen.config import base_config
from jaxgen.data import domains, load_dataset

KEYS = jax.random.split(jax.random.key(0), 2)


def square(size=8, top=2, side=3):
    """A white square on black [2, size, size, 1] (twice)."""
    x = np.zeros((2, size, size, 1), np.float32)
    x[:, top : top + side, top : top + side] = 1.0
    return jnp.asarray(x)


def test_negative_rotated_thick_and_edges_on_a_square():
    x = square()
    np.testing.assert_array_equal(domains.negative(x, KEYS), 1.0 - x)
    np.testing.assert_array_equal(domains.rotated(x, KEYS)[0, :, :, 0], np.rot90(np.asarray(x)[0, :, :, 0]))
    thick = np.asarray(domains.thick(x, KEYS))[0, :, :, 0]
    assert thick[1:6, 1:6].all() and thick.sum() == 25  # a 3x3 square grows to 5x5
    edges = np.asarray(domains.edges(x, KEYS))[0, :, :, 0]
    assert edges[3, 3] == 0.0  # the inside of the square is flat
    assert edges.sum() == 25 - 1  # the 5x5 dilation minus the 1x1 erosion


def test_coloured_digits_have_contrasting_colours_that_follow_the_image_index():
    grey = (jnp.asarray(synthetic_arrays(4, 2)["train_images"])[..., None]).astype(jnp.uint8)
    grey = jnp.pad(grey, ((0, 0), (2, 2), (2, 2), (0, 0)))
    first = domains.derive("coloured", np.asarray(grey))
    assert first.shape == (4, 32, 32, 3) and first.dtype == np.uint8
    again = domains.derive("coloured", np.asarray(grey)[2:], first_index=2)
    np.testing.assert_array_equal(again, first[2:])  # an image's colours depend on its index only
    background = first[:, 0, 0, :].astype(int)  # the padding: pure background
    stroke = np.stack([first[i, 7, 6 + 4 * i, :] for i in range(4)]).astype(int)  # inside image i's square
    shift = np.abs(stroke - background)
    assert (np.minimum(shift, 255 - shift) >= 0.3 * 255 - 2).all()  # every channel differs by 0.3 to 0.7
    assert len({tuple(c) for c in background}) == 4  # each image its own colours


@pytest.mark.parametrize("name", sorted(domains.DOMAINS))
def test_every_domain_stays_in_range_and_keeps_the_image_size(name):
    images = (np.random.default_rng(0).random((3, 32, 32, 1)) * 255).astype(np.uint8)
    out = domains.derive(name, images)
    side = domains.RTS_FRAME if name == "distorted_rts" else 32  # RTS places the digit on a larger canvas
    assert out.shape[:3] == (3, side, side) and out.dtype == np.uint8
    assert out.shape[3] == (3 if name == "coloured" else 1)
    assert domains.output_shape(name, (32, 32, 1)) == out.shape[1:]


def test_a_second_domain_loads_aligned_with_the_first(tmp_path):
    config = base_config(
        "gan", data={"source": "idx", "idx_dir": str(write_idx_dir(tmp_path, synthetic_arrays()))}
    )
    config.data.domain_b = "negative"
    dataset = load_dataset(config.data)
    np.testing.assert_array_equal(dataset.second.train_images, 255 - dataset.train_images)
    np.testing.assert_array_equal(dataset.second.test_labels, dataset.test_labels)
    config.data.domain_a, config.data.domain_b = "rotated", ""
    rotated = load_dataset(config.data)
    assert rotated.second is None
    np.testing.assert_array_equal(
        rotated.train_images[0, :, :, 0], np.rot90(dataset.train_images[0, :, :, 0])
    )


def test_distorted_r_turns_each_image_by_its_own_angle_within_90_degrees():
    bar = np.zeros((8, 32, 32, 1), np.uint8)
    bar[:, 15:17, 6:26] = 255  # a horizontal bar through the centre
    derived = domains.derive("distorted_r", bar)
    np.testing.assert_array_equal(domains.derive("distorted_r", bar[3:], first_index=3), derived[3:])
    out = derived.astype(np.float64)[..., 0]
    rows, cols = np.mgrid[:32, :32] - 15.5
    angles = []
    for image in out:
        m = image / image.sum()
        cov = np.array(
            [[np.sum(m * cols**2), np.sum(m * cols * rows)], [np.sum(m * cols * rows), np.sum(m * rows**2)]]
        )
        x, y = np.linalg.eigh(cov)[1][:, -1]  # the bar's long axis
        angles.append(np.degrees(np.arctan2(-y, x)) % 180)  # on screen, counter-clockwise, in [0, 180)
        assert abs(image.sum() / bar[0].sum() - 1.0) < 0.05  # turned, not cut: the bar keeps its mass
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(domains.DOMAIN_SEED), i))(jnp.arange(8))
    drawn = np.degrees(jax.vmap(lambda k: jax.random.uniform(k, minval=-jnp.pi / 2, maxval=jnp.pi / 2))(keys))
    np.testing.assert_allclose(np.asarray(angles), np.asarray(drawn) % 180, atol=3.0)
    assert np.std(drawn) > 20.0


def index_keys(count):
    return jax.vmap(lambda i: jax.random.fold_in(jax.random.key(domains.DOMAIN_SEED), i))(jnp.arange(count))


def centroid(image):
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([np.sum(image * rows), np.sum(image * cols)]) / image.sum()


def test_distorted_rts_scales_and_places_each_digit_inside_the_42_pixel_canvas():
    blob = np.zeros((16, 32, 32, 1), np.uint8)
    blob[:, 10:22, 12:20] = 255  # a digit-sized block near the centre
    derived = domains.derive("distorted_rts", blob)
    np.testing.assert_array_equal(domains.derive("distorted_rts", blob[5:], first_index=5), derived[5:])
    out = derived.astype(np.float64)[..., 0] / 255.0
    # the scale each image drew (the second of its three keys), so its mass must be the block's x scale^2
    scales = jax.vmap(lambda k: jax.random.uniform(jax.random.split(k, 3)[1], minval=0.7, maxval=1.2))(
        index_keys(16)
    )
    mass = out.reshape(16, -1).sum(1) / (blob[0].sum() / 255.0)
    np.testing.assert_allclose(mass, np.asarray(scales) ** 2, rtol=0.03)  # scaled, never cut off
    centres = np.stack([centroid(image) for image in out])
    margin = (domains.RTS_FRAME - domains.RTS_CANVAS) / 2  # the canvas's padding in the frame
    assert np.all(centres > margin + 4) and np.all(centres < domains.RTS_FRAME - margin - 5)
    assert centres.std(axis=0).min() > 1.5  # placed at different positions, not always the centre


def test_distorted_p_maps_the_image_onto_its_perturbed_quadrilateral():
    from matplotlib.path import Path

    white = np.full((6, 32, 32, 1), 255, np.uint8)
    out = domains.derive("distorted_p", white).astype(np.float64)[..., 0] / 255.0
    moves = jax.vmap(lambda k: jax.random.normal(k, (4, 2)))(index_keys(6)) * domains.PROJECTIVE_CORNER_STD
    corners = np.array([[-16.0, -16.0], [16.0, -16.0], [16.0, 16.0], [-16.0, 16.0]])  # pixels from the centre
    rows, cols = np.mgrid[:32, :32] + 0.5 - 16.0  # pixel centres, from the image's centre
    centres = np.stack([cols.ravel(), rows.ravel()], -1)
    for image, move in zip(out, np.asarray(moves), strict=True):
        outline = Path(domains.PROJECTIVE_SHRINK * corners + move)  # may reach beyond the canvas
        inside = outline.contains_points(centres).reshape(32, 32)
        assert np.abs(image - inside).mean() < 0.05  # the white image fills exactly its new outline
    assert not np.allclose(out[0], out[1])


def test_distorted_e_warps_by_a_smooth_field_of_a_few_pixels():
    from scipy import ndimage

    blur = np.asarray(spatial.gaussian_blur_matrix(32, domains.ELASTIC_SIGMA))
    signal = np.random.default_rng(1).uniform(-1, 1, 32)
    expected = ndimage.gaussian_filter1d(signal, domains.ELASTIC_SIGMA, mode="constant", truncate=4.0)
    np.testing.assert_allclose(blur @ signal, expected, atol=1e-5)
    bar = np.zeros((8, 32, 32, 1), np.uint8)
    bar[:, 6:26, 14:18] = 255
    derived = domains.derive("distorted_e", bar)
    np.testing.assert_array_equal(domains.derive("distorted_e", bar[2:], first_index=2), derived[2:])
    out = derived.astype(np.float64)[..., 0]
    moved = np.abs(out - bar[..., 0]).reshape(8, -1).sum(1) / bar[0].sum()
    assert np.all(moved > 0.1)  # every image is warped ...
    np.testing.assert_allclose(out.reshape(8, -1).sum(1) / bar[0].sum(), 1.0, atol=0.35)  # ... not erased
    shifts = np.stack([centroid(image) for image in out]) - centroid(bar[0, ..., 0].astype(np.float64))
    assert np.abs(shifts).max() < 4.0  # a local warp of a few pixels, not a translation
