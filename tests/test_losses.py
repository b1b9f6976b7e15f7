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
    # per example, averaged over pixels and channels
    x = jnp.zeros((2, 4, 4, 3))
    y = x.at[0].set(0.5).at[1, 0, 0, 0].set(1.0)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "l1"), [0.5, 1 / 48], rtol=1e-6)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "mse"), [0.25, 1 / 48], rtol=1e-6)
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


def test_sigmoid_cross_entropy_matches_log_sigmoids_and_its_gradient_is_sigmoid_minus_target():
    logits = jnp.asarray([-80.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 80.0])
    for target in (0.0, 0.3, 1.0):
        x = jnp.full_like(logits, target)
        two_pass = -(x * jax.nn.log_sigmoid(logits) + (1 - x) * jax.nn.log_sigmoid(-logits))
        np.testing.assert_allclose(losses.sigmoid_cross_entropy(logits, x), two_pass, rtol=1e-6, atol=1e-7)
        grad = jax.grad(lambda v, x=x: losses.sigmoid_cross_entropy(v, x).sum())(logits)
        np.testing.assert_allclose(grad, jax.nn.sigmoid(logits) - x, rtol=1e-6, atol=1e-7)
        target_grad = jax.grad(lambda t: losses.sigmoid_cross_entropy(logits, t).sum())(x)
        np.testing.assert_allclose(target_grad, -logits, rtol=1e-6)


def test_pixel_dropout_zeroes_about_rate_of_the_pixels_and_keeps_the_rest():
    images = jnp.full((50, 32, 32, 1), 0.7)
    masked = np.asarray(losses.pixel_dropout(jax.random.key(0), images, 0.3))
    assert set(np.unique(masked).tolist()) == {0.0, np.float32(0.7)}
    assert np.mean(masked == 0.0) == pytest.approx(0.3, abs=0.01)


def test_code_penalties_by_hand():
    codes = jnp.asarray([[1.0, -2.0, 0.0, 3.0]])
    assert float(losses.l2_code_penalty(codes)[0]) == pytest.approx((1 + 4 + 0 + 9) / 4)
    assert float(losses.l1_code_penalty(codes)[0]) == pytest.approx((1 + 2 + 0 + 3) / 4)


# ----------------------------------------------------------------------------------------- GAN family


def test_least_squares_losses_hand_values():
    real, fake = jnp.array([1.0, 0.5]), jnp.array([0.0, 2.0])
    np.testing.assert_allclose(losses.least_squares_discriminator_loss(real, fake), [0.0, 0.5 * (0.25 + 4.0)])
    np.testing.assert_allclose(losses.least_squares_generator_loss(fake), [0.5, 0.5])
    np.testing.assert_allclose(
        losses.least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0), [0.5, 0.5 * 9.25]
    )


def linear_critic(w):
    """f(x) = sum(w * x^2) per example: its input gradient 2 w x is known in closed form."""
    return lambda x: jnp.sum(w * jnp.square(x), axis=(1, 2, 3))


def test_gradient_penalty_hand_value_with_per_example_interpolation():
    key = jax.random.key(0)
    real, fake = jnp.full((3, 2, 2, 1), 1.0), jnp.zeros((3, 2, 2, 1))
    w = 0.7
    eps = jax.random.uniform(key, (3, 1, 1, 1))
    # x_hat = eps everywhere; grad = 2 w eps per pixel; norm over 4 pixels = 2 w eps * 2
    expected = np.square(4 * w * np.asarray(eps).ravel() - 1.0)
    np.testing.assert_allclose(
        losses.gradient_penalty(linear_critic(w), real, fake, key), expected, rtol=1e-5
    )


def test_gradient_penalty_of_a_batch_is_the_mean_of_single_example_penalties():
    key = jax.random.key(1)
    real = jax.random.normal(jax.random.key(2), (4, 3, 3, 1))
    fake = jax.random.normal(jax.random.key(3), (4, 3, 3, 1))
    w = jax.random.normal(jax.random.key(4), (3, 3, 1))
    critic = linear_critic(w)
    batch = losses.gradient_penalty(critic, real, fake, key)
    # the same eps per example, drawn as the batch draws them, then one example at a time
    eps = jax.random.uniform(key, (4, 1, 1, 1))
    singles = []
    for i in range(4):
        x_hat = eps[i] * real[i : i + 1] + (1 - eps[i]) * fake[i : i + 1]
        g = jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)
        singles.append((float(jnp.linalg.norm(g)) - 1.0) ** 2)
    np.testing.assert_allclose(batch, singles, rtol=1e-5)
    assert float(batch.mean()) == pytest.approx(np.mean(singles), rel=1e-5)
    # the zoo bug: a norm over the whole batch is a different number
    whole = (
        float(jnp.linalg.norm(jax.grad(lambda x: jnp.sum(critic(x)))(eps * real + (1 - eps) * fake))) - 1
    ) ** 2
    assert not np.isclose(whole, np.mean(singles), rtol=1e-2)


def test_gradient_penalty_has_a_nonzero_gradient_with_respect_to_the_critic():
    """The originals' penalty was a constant (grad_outputs of zeros): here it trains the critic."""
    real, fake = jnp.ones((2, 2, 2, 1)), jnp.zeros((2, 2, 2, 1))
    grad_w = jax.grad(
        lambda w: losses.gradient_penalty(linear_critic(w), real, fake, jax.random.key(0)).mean()
    )(0.1)
    assert abs(float(grad_w)) > 1e-3


def test_began_k_update_is_proportional_and_clipped():
    k, m = losses.began_k_update(jnp.array(0.5), jnp.array(2.0), jnp.array(0.5), gamma=0.5, lambda_k=0.1)
    assert float(k) == pytest.approx(0.5 + 0.1 * (0.5 * 2.0 - 0.5))
    assert float(m) == pytest.approx(2.0 + abs(0.5 * 2.0 - 0.5))
    low, _ = losses.began_k_update(jnp.array(0.01), jnp.array(0.0), jnp.array(5.0), gamma=0.5, lambda_k=0.1)
    high, _ = losses.began_k_update(jnp.array(0.99), jnp.array(10.0), jnp.array(0.0), gamma=0.5, lambda_k=0.1)
    assert float(low) == 0.0 and float(high) == 1.0


def test_ebgan_margin_loss_and_pulling_away_term_hand_values():
    np.testing.assert_allclose(
        losses.ebgan_discriminator_loss(jnp.array([0.2, 1.0]), jnp.array([3.0, 10.0]), margin=5.0), [2.2, 1.0]
    )
    orthogonal = jnp.eye(3)
    assert float(losses.pulling_away_term(orthogonal)) == pytest.approx(0.0, abs=1e-7)
    same = jnp.ones((4, 2)) * jnp.array([[1.0], [2.0], [3.0], [4.0]])
    assert float(losses.pulling_away_term(same)) == pytest.approx(1.0, rel=1e-6)
    pair = jnp.array([[1.0, 0.0], [1.0, 1.0]])  # cos = 1/sqrt(2): cos^2 = 0.5, both ordered pairs
    assert float(losses.pulling_away_term(pair)) == pytest.approx(0.5, rel=1e-6)


def test_info_gan_mutual_information_loss_hand_value_and_sign():
    logits = jnp.array([[2.0, 0.0, 0.0]])
    mean, cont = jnp.array([[0.5, -1.0]]), jnp.array([[0.0, 0.0]])
    ce = -(2.0 - math.log(math.exp(2) + 2))
    nll = 0.5 * (0.25 + 1.0) + math.log(2 * math.pi)
    loss = losses.info_gan_mutual_information_loss(logits, jnp.array([0]), mean, cont)
    assert float(loss[0]) == pytest.approx(ce + nll, rel=1e-6)
    # better predictions of the codes lower the loss (it is minus a mutual-information bound)
    better = losses.info_gan_mutual_information_loss(logits * 3, jnp.array([0]), cont, cont)
    assert float(better[0]) < float(loss[0])
    # the continuous term scales with its weight; the category's does not
    halved = losses.info_gan_mutual_information_loss(logits, jnp.array([0]), mean, cont, 0.5)
    assert float(halved[0]) == pytest.approx(ce + 0.5 * nll, rel=1e-6)
