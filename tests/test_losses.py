"""Losses on hand-computed values (per example, stable forms)."""

from __future__ import annotations

import math

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
