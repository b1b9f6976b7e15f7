"""Optimizers built from the config, and weight clipping as an optax transform."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen.config import base_config
from jaxgen.optim import clip_params, make_optimizer


def test_clip_params_keeps_params_in_range_after_every_update():
    params = {"w": jnp.array([0.005, -0.009, 0.0]), "b": jnp.array([0.02])}
    opt = optax.chain(optax.sgd(0.1), clip_params(0.01))
    state = opt.init(params)
    grads = {"w": jnp.array([-1.0, 1.0, 0.01]), "b": jnp.array([0.0])}
    updates, state = opt.update(grads, state, params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new["w"], [0.01, -0.01, -0.001], atol=1e-9)
    np.testing.assert_allclose(new["b"], [0.01], atol=1e-9)  # clipped even with a zero gradient
    assert max(float(jnp.abs(x).max()) for x in jax.tree.leaves(new)) <= 0.01 + 1e-8
    with pytest.raises(ValueError, match="needs params"):
        clip_params(0.01).update(grads, optax.EmptyState())


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_make_optimizer_reduces_a_quadratic(name):
    config = base_config().optim
    config.name, config.lr = name, 0.05
    opt = make_optimizer(config, num_steps=20)
    params = jnp.array([1.0, -2.0])
    state = opt.init(params)
    for _ in range(20):
        updates, state = opt.update(jax.grad(lambda p: jnp.sum(p**2))(params), state, params)
        params = optax.apply_updates(params, updates)
    assert float(jnp.sum(params**2)) < 5.0 * 0.8


def sgd_steps(num_steps: int, updates: int, **optim) -> list[float]:
    """Step sizes of plain SGD (unit gradient) under the optimizer config fields `optim`."""
    config = base_config().optim
    config.name = "sgd"
    config.update(optim)
    opt = make_optimizer(config, num_steps=num_steps)
    params = jnp.array(1.0)
    state = opt.init(params)
    steps = []
    for _ in range(updates):
        step, state = opt.update(jnp.array(1.0), state, params)
        steps.append(float(-step))
    return steps


def test_cosine_schedule_decays_to_zero():
    steps = sgd_steps(10, 11, lr=0.5, schedule="cosine")
    np.testing.assert_allclose(steps[0], 0.5, rtol=1e-6)
    np.testing.assert_allclose(steps[5], 0.25, rtol=1e-5)
    assert steps[10] == 0.0


def test_linear_tail_schedule_holds_for_half_the_run_then_falls_to_zero():
    steps = sgd_steps(8, 9, lr=0.4, schedule="linear_tail")
    np.testing.assert_allclose(steps, [0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.2, 0.1, 0.0], rtol=1e-6, atol=1e-7)


def test_halving_schedule_halves_every_interval():
    steps = sgd_steps(100, 7, lr=0.8, schedule="halving", halve_every=3)
    np.testing.assert_allclose(steps, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2], rtol=1e-6)


def test_adam_epsilon_under_the_root_damps_tiny_gradients():
    """optim.eps_root = 1e-8, eps = 0 (Theano-era Adam): a gradient of 1e-6 moves a param by about
    lr x 1e-6 / 1e-4, not by lr as with eps outside the root."""
    config = base_config("gan").optim
    config.lr = 1.0
    grads = {"w": jnp.array([1e-6, 1.0])}
    outside = make_optimizer(config, 10).update(grads, make_optimizer(config, 10).init(grads))[0]
    np.testing.assert_allclose(outside["w"], [-0.99, -1.0], rtol=0.02)
    config.eps, config.eps_root = 0.0, 1e-8
    opt = make_optimizer(config, 10)
    inside = opt.update(grads, opt.init(grads))[0]
    np.testing.assert_allclose(inside["w"], [-1e-6 / np.sqrt(1e-12 + 1e-8), -1.0], rtol=1e-3)
