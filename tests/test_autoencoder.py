"""Autoencoder variants as config fields: code penalties, sigmoid codes, masking noise with a clean target."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import tiny_config

from jaxgen import losses
from jaxgen.models import apply_net, init_networks
from jaxgen.models.autoencoder import make


def family_and_params(**model_fields):
    model = tiny_config("ae").model
    for key, value in model_fields.items():
        setattr(model, key, value)
    family = make(model, optax.adam(1e-3), (32, 32, 1))
    params, state = init_networks(family, jax.random.key(0))
    return family, params, state


def batch():
    return {"image": jax.random.uniform(jax.random.key(1), (4, 32, 32, 1)), "label": jnp.zeros(4, jnp.int32)}


def test_code_penalties_are_added_with_their_weights():
    plain, params, state = family_and_params()
    b, key = batch(), jax.random.key(2)
    base, _ = plain.updates[0].loss(params, state, b, key)
    codes, _ = apply_net(plain.networks["enc"], "enc", params, state, b["image"], train=True)
    for fields, penalty in (
        ({"code_l2": 0.2}, losses.l2_code_penalty),
        ({"code_l1": 0.05}, losses.l1_code_penalty),
    ):
        family, _, _ = family_and_params(**fields)
        total, (metrics, _) = family.updates[0].loss(params, state, b, key)
        weight = next(iter(fields.values()))
        expected = float(base) + weight * float(penalty(codes).mean())
        assert float(total) == pytest.approx(expected, rel=1e-5)
        assert set(metrics) == {"recon_mse", next(iter(fields))}


def test_sigmoid_codes_lie_in_the_unit_box():
    family, params, state = family_and_params(code_activation="sigmoid")
    codes = family.encode(params, state, batch()["image"] * 50.0)
    assert float(codes.min()) > 0.0 and float(codes.max()) < 1.0
    assert family.code_space == "unit_box"


def test_denoising_reconstructs_the_clean_image_from_a_masked_input():
    family, params, state = family_and_params(input_dropout=0.5)
    b, key = batch(), jax.random.key(3)
    total, _ = family.updates[0].loss(params, state, b, key)
    masked = losses.pixel_dropout(key, b["image"], 0.5)
    codes, state_after = apply_net(family.networks["enc"], "enc", params, state, masked, train=True)
    output, _ = apply_net(family.networks["dec"], "dec", params, state_after, codes, train=True)
    expected = losses.reconstruction_loss(jax.nn.sigmoid(output), b["image"], "mse").mean()
    assert float(total) == pytest.approx(float(expected), rel=1e-5)
    plain_total, _ = family_and_params()[0].updates[0].loss(params, state, b, key)
    assert not np.isclose(float(total), float(plain_total))  # the mask changes what the encoder sees
