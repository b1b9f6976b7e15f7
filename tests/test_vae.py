"""The VAE family: importance weights, bounds, the IWAE objective and the 28x28 crop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen import metrics
from jaxgen.config import base_config
from jaxgen.models import init_networks
from jaxgen.models.vae import make


def tiny_vae(**overrides):
    model = base_config().model
    model.hidden, model.latent_dim, model.crop = 16, 3, 2
    for key, value in overrides.items():
        setattr(model, key, value)
    family = make(model, optax.adam(1e-3), (32, 32, 1))
    params, state = init_networks(family, jax.random.key(0))
    return family, params, state


def binary_images(n=6):
    return metrics.dynamic_binarize(jax.random.key(1), jnp.full((n, 32, 32, 1), 0.3))


def test_models_the_784_pixels_inside_the_padding():
    family, params, state = tiny_vae()
    assert params["dec"]["Dense_1"]["kernel"].shape == (16, 28 * 28)
    images = family.sample(params, state, jax.random.key(2), 4)["images"]
    assert images.shape == (4, 32, 32, 1)
    border = np.asarray(images).copy()
    border[:, 2:30, 2:30] = 0
    assert not border.any() and 0.0 < float(images.max()) <= 1.0


def test_iwae_bound_rises_with_k_and_the_elbo_matches_the_analytic_kl_form():
    family, params, state = tiny_vae()
    x = binary_images()

    def lw(images, key, n):
        return family.log_weights(params, state, images, key, n)

    elbo, iwae_1 = metrics.importance_bounds(lw, x, jax.random.key(3), k=2000, chunk=500)
    _, iwae_50 = metrics.importance_bounds(lw, x, jax.random.key(4), k=50, chunk=50)
    assert np.all(np.asarray(iwae_1) > np.asarray(elbo))
    # the training loss (analytic KL, one sample) estimates the same ELBO; average it over many keys
    losses = jax.vmap(lambda k: family.updates[0].loss(params, state, {"image": x}, k)[0])(
        jax.random.split(jax.random.key(5), 400)
    )
    assert float(jnp.mean(losses)) == pytest.approx(-float(jnp.mean(elbo)), rel=2e-3)
    assert float(jnp.mean(iwae_50)) > float(jnp.mean(elbo))


def test_iwae_objective_is_minus_the_k_sample_bound():
    family, params, state = tiny_vae(iwae_k=8)
    x = binary_images()
    key = jax.random.key(6)
    loss, (metrics_out, _) = family.updates[0].loss(params, state, {"image": x}, key)
    _, noise_key = jax.random.split(key)
    lw = family.log_weights(params, state, x, noise_key, 8)
    bound = jax.scipy.special.logsumexp(lw, axis=1) - jnp.log(8.0)
    assert float(loss) == pytest.approx(-float(bound.mean()), rel=1e-6)
    assert float(metrics_out["iwae_bound"]) == pytest.approx(float(bound.mean()), rel=1e-6)
