"""Gromov-Wasserstein matching (jaxgen/data/matching.py): labels for an unlabelled domain from distances
within each domain."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.data import matching


def clustered_images(key, per_class: int, scales=(0.2, 0.35, 0.5, 0.65)):
    """Images [4 * per_class, 8, 8, 1] of four classes: a fixed random template per class, drawn at its
    own brightness, plus noise of its own size, so the distances between and within the classes all
    differ (no two classes can be swapped without changing them)."""
    templates = jax.random.uniform(jax.random.key(7), (4, 8, 8, 1))
    labels = jnp.repeat(jnp.arange(4), per_class)
    noise_size = jnp.asarray([0.02, 0.06, 0.1, 0.14])[labels][:, None, None, None]
    noise = noise_size * jax.random.normal(key, (4 * per_class, 8, 8, 1))
    images = jnp.asarray(scales)[labels][:, None, None, None] * templates[labels] + noise
    order = jax.random.permutation(jax.random.fold_in(key, 1), 4 * per_class)
    return images[order], labels[order]


def test_the_coupling_has_both_uniform_marginals():
    a, _ = clustered_images(jax.random.key(0), 10)
    b, _ = clustered_images(jax.random.key(1), 12)
    coupling = matching.gromov_wasserstein(
        matching.normalised_distances(a), matching.normalised_distances(b), epsilon=0.01
    )
    assert coupling.shape == (40, 48)
    np.testing.assert_allclose(coupling.sum(1), np.full(40, 1 / 40), rtol=1e-3)
    np.testing.assert_allclose(coupling.sum(0), np.full(48, 1 / 48), rtol=1e-3)


def test_distances_are_euclidean_with_mean_one():
    images = jax.random.uniform(jax.random.key(2), (5, 3, 3, 1))
    d = matching.normalised_distances(images)
    flat = np.asarray(images).reshape(5, -1)
    exact = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    np.testing.assert_allclose(d, exact / exact.mean(), rtol=1e-5, atol=1e-6)
    assert float(d.mean()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("turn", [lambda x: jnp.rot90(x, 1, axes=(1, 2)), lambda x: 1.0 - x])
def test_a_transform_that_keeps_distances_keeps_the_labels(turn):
    """Domain B: other draws of the same classes, turned by a quarter (or negated): matching finds every
    class from the distances alone; B's labels are never given to it."""
    a, labels_a = clustered_images(jax.random.key(3), 15)
    b, labels_b = clustered_images(jax.random.key(4), 15)
    found = matching.matched_labels(a, labels_a, turn(b), count=60, epsilon=0.002, classes=4)
    np.testing.assert_array_equal(found, labels_b)


def test_images_beyond_the_matched_ones_take_their_nearest_matched_images_label():
    a, labels_a = clustered_images(jax.random.key(5), 10)
    # the first 40 of B hold each class as often as A does (matching keeps the marginals uniform)
    parts = [clustered_images(jax.random.key(k), n) for k, n in ((6, 10), (10, 15))]
    b, labels_b = (jnp.concatenate(x) for x in zip(*parts, strict=True))
    found = matching.matched_labels(a, labels_a, b, count=40, epsilon=0.002, classes=4)
    np.testing.assert_array_equal(found[:40], labels_b[:40])
    flat = np.asarray(b).reshape(100, -1)
    nearest = np.argmin(((flat[40:, None] - flat[None, :40]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(found[40:], found[:40][nearest])


def test_label_domain_b_reads_uint8_images_and_names_an_unknown_method():
    a, labels_a = clustered_images(jax.random.key(8), 10)
    b, labels_b = clustered_images(jax.random.key(9), 10)
    as_bytes = lambda x: np.asarray(jnp.clip(x, 0, 1) * 255, np.uint8)  # noqa: E731
    found = matching.label_domain_b(
        "gromov_wasserstein", as_bytes(a), np.asarray(labels_a), as_bytes(b), count=500, epsilon=0.002
    )  # count beyond the images: all of them
    assert found.dtype == np.int32 and found.shape == (40,)
    assert np.mean(found == np.asarray(labels_b)) == 1.0
    with pytest.raises(ValueError, match="unknown matching 'optimal'"):
        matching.label_domain_b("optimal", as_bytes(a), np.asarray(labels_a), as_bytes(b), 10, 0.01)
