"""The VAE family: importance weights, bounds, the IWAE objective and the 28x28 crop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen import metrics
from jaxgen.config import base_config
from jaxgen.models import Setup, init_networks
from jaxgen.models.vae import make


def tiny_vae(**overrides):
    model = base_config("vae", model={"hidden": 16, "latent_dim": 3, "binarize": False}).model
    for key, value in overrides.items():
        setattr(model, key, value)
    family = make(model, Setup((32, 32, 1), optax.adam(1e-3)))
    params, state = init_networks(family, jax.random.key(0))
    return family, params, state


def binary_images(n=6):
    return metrics.dynamic_binarize(jax.random.key(1), jnp.full((n, 32, 32, 1), 0.3))


def test_models_the_784_pixels_inside_the_padding():
    family, params, state = tiny_vae()
    assert params["dec"]["MLP_0"]["Dense_1"]["kernel"].shape == (16, 28 * 28)
    images = family.can.sample(params, state, jax.random.key(2), 4)["images"]
    assert images.shape == (4, 32, 32, 1)
    border = np.asarray(images).copy()
    border[:, 2:30, 2:30] = 0
    assert not border.any() and 0.0 < float(images.max()) <= 1.0


def test_iwae_bound_rises_with_k_and_the_elbo_matches_the_analytic_kl_form():
    family, params, state = tiny_vae()
    x = binary_images()

    def lw(images, key, n):
        return family.can.log_weights(params, state, images, key, n)

    elbo, iwae_1 = metrics.importance_bounds(lw, x, jax.random.key(3), k=2000, chunk=500)
    _, iwae_50 = metrics.importance_bounds(lw, x, jax.random.key(4), k=50, chunk=50)
    assert np.all(np.asarray(iwae_1) > np.asarray(elbo))
    # the training loss (analytic KL, one sample) estimates the same ELBO; average it over many keys
    losses = jax.vmap(lambda k: family.updates[0].loss(params, state, {"image": x}, k)[0])(
        jax.random.split(jax.random.key(5), 400)
    )
    # both are Monte Carlo means: allow 4 standard errors of the 400-key mean (the 2000-sample one is smaller)
    standard_error = float(jnp.std(losses)) / np.sqrt(len(losses))
    assert abs(float(jnp.mean(losses)) + float(jnp.mean(elbo))) < 4 * standard_error
    assert standard_error < 0.01 * float(
        jnp.mean(losses)
    )  # the check above is tight enough to mean something
    assert float(jnp.mean(iwae_50)) > float(jnp.mean(elbo))


def test_iwae_objective_is_minus_the_k_sample_bound():
    family, params, state = tiny_vae(iwae_k=8)
    x = binary_images()
    key = jax.random.key(6)
    loss, (metrics_out, _) = family.updates[0].loss(params, state, {"image": x}, key)
    _, noise_key = jax.random.split(key)
    lw = family.can.log_weights(params, state, x, noise_key, 8)
    bound = jax.scipy.special.logsumexp(lw, axis=1) - jnp.log(8.0)
    assert float(loss) == pytest.approx(-float(bound.mean()), rel=1e-6)
    assert float(metrics_out["iwae_bound"]) == pytest.approx(float(bound.mean()), rel=1e-6)


def test_gaussian_decoder_likelihood_is_the_normal_log_density_with_the_learned_scale():
    from scipy.stats import norm

    from jaxgen.models.vae import log_likelihood

    out = jnp.array([[0.0, 2.0, -1.0]])
    x = jnp.array([[0.5, 0.1, 0.9]])
    log_scale = jnp.array(-1.5)
    expected = norm.logpdf(np.asarray(x), loc=1 / (1 + np.exp(-np.asarray(out))), scale=np.exp(-1.5)).sum()
    assert float(log_likelihood(out, log_scale, x)[0]) == pytest.approx(expected, rel=1e-5)
    bernoulli = np.sum(
        np.asarray(x) * np.log(1 / (1 + np.exp(-np.asarray(out))))
        + (1 - np.asarray(x)) * np.log(1 - 1 / (1 + np.exp(-np.asarray(out))))
    )
    assert float(log_likelihood(out, None, x)[0]) == pytest.approx(bernoulli, rel=1e-5)


def test_gaussian_decoder_learns_its_pixel_scale_and_kl_weight_scales_only_the_kl():
    family, params, state = tiny_vae(decoder_dist="gaussian")
    assert params["dec"]["log_scale"].shape == ()
    batch = {"image": jax.random.uniform(jax.random.key(7), (4, 32, 32, 1))}
    key = jax.random.key(8)
    loss, (m, _) = family.updates[0].loss(params, state, batch, key)
    assert float(loss) == pytest.approx(-float(m["elbo"]), rel=1e-6)
    grads = jax.grad(lambda p: family.updates[0].loss(p, state, batch, key)[0])(params)
    assert float(grads["dec"]["log_scale"]) != 0.0
    beta_family, _, _ = tiny_vae(decoder_dist="gaussian", kl_weight=4.0)
    beta_loss, _ = beta_family.updates[0].loss(params, state, batch, key)
    assert float(beta_loss) == pytest.approx(-float(m["log_px_given_z"]) + 4.0 * float(m["kl"]), rel=1e-5)


def test_conv_vae_models_the_same_784_pixels_and_bounds_hold():
    family, params, state = tiny_vae(arch="conv", width=4)
    x = binary_images(4)

    def lw(images, key, n):
        return family.can.log_weights(params, state, images, key, n)

    elbo, iwae = metrics.importance_bounds(lw, x, jax.random.key(3), k=64, chunk=16)
    assert np.all(np.asarray(iwae) >= np.asarray(elbo))
    assert -float(jnp.mean(elbo)) > 100.0  # 784 Bernoulli pixels at init: hundreds of nats
    images = family.can.sample(params, state, jax.random.key(2), 3)["images"]
    assert images.shape == (3, 32, 32, 1) and not np.asarray(images)[:, :2].any()
