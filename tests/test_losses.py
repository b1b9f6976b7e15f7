"""Losses on hand-computed values (per example, stable forms)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import losses


def test_gan_losses_hand_values():
    real, fake = jnp.array([0.0, 2.0]), jnp.array([0.0, -1.0])
    # -log sigmoid(r) - log(1 - sigmoid(f))
    expected = [2 * math.log(2), math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))]
    np.testing.assert_allclose(losses.gan_discriminator_loss(real, fake), expected, rtol=1e-6)
    np.testing.assert_allclose(
        losses.gan_generator_loss(fake, "non_saturating"), [math.log(2), math.log(1 + math.e)], rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.gan_generator_loss(fake, "minimax"), [-math.log(2), -math.log(1 + math.exp(-1))], rtol=1e-6
    )
    with pytest.raises(ValueError):
        losses.gan_generator_loss(fake, "hinge")


def test_gan_losses_are_stable_for_large_logits():
    big = jnp.array([100.0, -100.0])
    assert np.isfinite(losses.gan_discriminator_loss(big, -big)).all()
    np.testing.assert_allclose(
        losses.gan_generator_loss(jnp.array([-100.0]), "non_saturating"), [100.0], rtol=1e-6
    )


def test_wasserstein_losses():
    real, fake = jnp.array([1.0, 3.0]), jnp.array([0.5, -1.0])
    np.testing.assert_allclose(losses.wasserstein_critic_loss(real, fake), [-0.5, -4.0])
    np.testing.assert_allclose(losses.wasserstein_generator_loss(fake), [-0.5, 1.0])


def test_reconstruction_and_cross_entropy():
    target = jnp.array([[[[1.0], [0.0]]]])  # one 1x2 image
    np.testing.assert_allclose(
        losses.reconstruction_loss(jnp.array([[[[0.5], [0.5]]]]), target, "mse"), [0.25]
    )
    logits = jnp.array([[[[0.0], [0.0]]]])
    np.testing.assert_allclose(losses.reconstruction_loss(logits, target, "bce"), [math.log(2)], rtol=1e-6)
    ce = losses.softmax_cross_entropy(jnp.array([[0.0, 0.0], [math.log(3), 0.0]]), jnp.array([0, 0]))
    np.testing.assert_allclose(ce, [math.log(2), math.log(4 / 3)], rtol=1e-6)


# ----------------------------------------------------------------------------------------- VAE pieces


def test_gaussian_kl_to_standard_by_hand_and_by_monte_carlo():
    mean, logvar = jnp.asarray([[0.0, 0.0], [1.0, -0.5]]), jnp.asarray([[0.0, 0.0], [np.log(0.25), 0.3]])
    kl = np.asarray(losses.gaussian_kl_to_standard(mean, logvar))
    assert kl[0] == pytest.approx(0.0, abs=1e-7)  # q = p
    by_hand = 0.5 * (1.0 + 0.25 - 1 - np.log(0.25)) + 0.5 * (0.25 + np.exp(0.3) - 1 - 0.3)
    assert kl[1] == pytest.approx(by_hand, rel=1e-6)
    z = mean[1] + jnp.exp(0.5 * logvar[1]) * jax.random.normal(jax.random.key(0), (200_000, 2))
    log_q = losses.diagonal_gaussian_log_density(z, mean[1], logvar[1])
    log_p = losses.diagonal_gaussian_log_density(z, 0.0, jnp.zeros(2))
    assert float(jnp.mean(log_q - log_p)) == pytest.approx(by_hand, abs=0.01)


def test_diagonal_gaussian_log_density_matches_scipy():
    import scipy.stats

    z, mean, logvar = np.array([0.3, -1.2, 2.0]), np.array([0.1, 0.0, 1.5]), np.array([0.0, -1.0, 0.7])
    expected = scipy.stats.norm.logpdf(z, mean, np.exp(0.5 * logvar)).sum()
    got = losses.diagonal_gaussian_log_density(jnp.asarray(z), jnp.asarray(mean), jnp.asarray(logvar))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_bernoulli_log_likelihood_by_hand():
    logits, x = jnp.asarray([[0.0, 2.0, -1.0]]), jnp.asarray([[1.0, 0.0, 0.0]])
    p = 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0])))
    expected = np.log(p[0]) + np.log(1 - p[1]) + np.log(1 - p[2])
    assert float(losses.bernoulli_log_likelihood(logits, x)[0]) == pytest.approx(expected, rel=1e-6)


def test_pixel_dropout_zeroes_about_rate_of_the_pixels_and_keeps_the_rest():
    images = jnp.full((50, 32, 32, 1), 0.7)
    masked = np.asarray(losses.pixel_dropout(jax.random.key(0), images, 0.3))
    assert set(np.unique(masked).tolist()) == {0.0, np.float32(0.7)}
    assert np.mean(masked == 0.0) == pytest.approx(0.3, abs=0.01)


def test_code_penalties_by_hand():
    codes = jnp.asarray([[1.0, -2.0, 0.0, 3.0]])
    assert float(losses.l2_code_penalty(codes)[0]) == pytest.approx((1 + 4 + 0 + 9) / 4)
    assert float(losses.l1_code_penalty(codes)[0]) == pytest.approx((1 + 2 + 0 + 3) / 4)
