"""VAE-GAN: the feature-space reconstruction loss and which loss each network is trained on."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import tiny_config

from jaxgen import losses
from jaxgen.data import to_signed
from jaxgen.models import Setup, apply_net, init_networks
from jaxgen.models.vaegan import feature_reconstruction_loss, make


def test_feature_reconstruction_loss_is_half_the_summed_squared_error():
    real = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    recon = jnp.array([[1.0, 0.0, 4.0], [1.0, -1.0, 2.0]])
    np.testing.assert_allclose(feature_reconstruction_loss(real, recon), [0.5 * (4 + 1), 0.5 * (1 + 1 + 4)])


def setup(**fields):
    model = tiny_config("vaegan").model
    for key, value in fields.items():
        setattr(model, key, value)
    family = make(model, Setup((32, 32, 1), optax.adam(1e-3)))
    params, state = init_networks(family, jax.random.key(0))
    batch = {"image": jax.random.uniform(jax.random.key(1), (4, 32, 32, 1))}
    return family, params, state, batch


def test_losses_match_a_hand_assembled_forward_pass():
    family, params, state, batch = setup(kl_weight=0.5, feature_weight=0.25)
    key = jax.random.key(2)
    updates = {u.name: u for u in family.updates}
    assert {u.name: u.networks for u in family.updates} == {
        "enc": ("enc",),
        "dec": ("dec",),
        "disc": ("disc",),
    }

    # the same forward pass by hand
    nets, x = family.networks, batch["image"]
    noise_key, prior_key = jax.random.split(key)
    (mean, logvar), s = apply_net(nets["enc"], "enc", params, state, x, train=True)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(noise_key, mean.shape)
    (out, _), s = apply_net(nets["dec"], "dec", params, s, z, train=True)
    (out_p, _), s = apply_net(nets["dec"], "dec", params, s, jax.random.normal(prior_key, (4, 8)), train=True)
    recon, prior = (jax.nn.sigmoid(o).reshape(4, 32, 32, 1) for o in (out, out_p))
    (logits, feats), _ = apply_net(
        nets["disc"], "disc", params, s, to_signed(jnp.concatenate([x, recon, prior])), train=True
    )
    assert feats.shape == (12, 4 * 4 * 16)  # third conv of widths 4/8/16/32: 4x4x16
    kl = losses.gaussian_kl_to_standard(mean, logvar)
    feature_error = 0.5 * jnp.sum(jnp.square(feats[:4] - feats[4:8]), axis=1)

    enc_loss, _ = updates["enc"].loss(params, state, batch, key)
    assert float(enc_loss) == pytest.approx(float(jnp.mean(0.5 * kl + feature_error)), rel=1e-5)
    dec_loss, _ = updates["dec"].loss(params, state, batch, key)
    gan = jax.nn.softplus(-logits[4:8]) + jax.nn.softplus(-logits[8:])
    assert float(dec_loss) == pytest.approx(float(jnp.mean(0.25 * feature_error + gan)), rel=1e-5)
    disc_loss, _ = updates["disc"].loss(params, state, batch, key)
    expected = jax.nn.softplus(-logits[:4]) + jax.nn.softplus(logits[4:8]) + jax.nn.softplus(logits[8:])
    assert float(disc_loss) == pytest.approx(float(jnp.mean(expected)), rel=1e-5)
