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
from jaxgen.models.vaegan import equilibrium_gates, feature_reconstruction_loss, make


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
    family, params, state, batch = setup(
        kl_weight=0.5, feature_weight=0.25, discriminate_reconstructions=True
    )
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
    expected = 0.5 * jax.nn.softplus(-logits[:4]) + 0.25 * (
        jax.nn.softplus(logits[4:8]) + jax.nn.softplus(logits[8:])
    )
    assert float(disc_loss) == pytest.approx(float(jnp.mean(expected)), rel=1e-5)

    # the encoder update stores D's costs on the batch for the gates of the decoder and D
    _, (metrics, new_state) = updates["enc"].loss(params, state, batch, key)
    real_cost = jnp.mean(jax.nn.softplus(-logits[:4]))
    fake_cost = 0.5 * jnp.mean(jax.nn.softplus(logits[4:8]) + jax.nn.softplus(logits[8:]))
    assert float(new_state["extras"]["real_cost"]) == pytest.approx(float(real_cost), rel=1e-5)
    assert float(new_state["extras"]["fake_cost"]) == pytest.approx(float(fake_cost), rel=1e-5)
    assert float(metrics["d_fake_cost"]) == pytest.approx(float(fake_cost), rel=1e-5)


def test_without_reconstructions_d_judges_prior_samples_alone():
    """discriminate_reconstructions=False (the authors' scripts): the encoder cannot change D's loss or the
    decoder's GAN term; its feature error comes from D's pass over real images and reconstructions."""
    family, params, state, batch = setup(discriminate_reconstructions=False, feature_weight=0.0)
    updates, key = {u.name: u for u in family.updates}, jax.random.key(2)
    moved = {**params, "enc": jax.tree.map(lambda p: p + 0.05, params["enc"])}
    for name in ("disc", "dec"):
        before = updates[name].loss(params, state, batch, key)[0]
        assert float(updates[name].loss(moved, state, batch, key)[0]) == pytest.approx(
            float(before), rel=1e-6
        )
    enc_before = updates["enc"].loss(params, state, batch, key)[0]
    assert abs(float(updates["enc"].loss(moved, state, batch, key)[0]) - float(enc_before)) > 1e-3

    # D's loss: half on -log D(x), half on -log(1 - D(prior sample)), from one pass over x and the prior
    nets, x = family.networks, batch["image"]
    noise_key, prior_key = jax.random.split(key)
    (mean, logvar), s = apply_net(nets["enc"], "enc", params, state, x, train=True)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(noise_key, mean.shape)
    (out, _), _ = apply_net(nets["dec"], "dec", params, s, z, train=True)
    recon = jax.nn.sigmoid(out).reshape(4, 32, 32, 1)
    (_, feats), _ = apply_net(
        nets["disc"], "disc", params, s, to_signed(jnp.concatenate([x, recon])), train=True
    )
    enc_expected = losses.gaussian_kl_to_standard(mean, logvar) + 0.5 * jnp.sum(
        jnp.square(feats[:4] - feats[4:]), axis=1
    )
    assert float(enc_before) == pytest.approx(float(jnp.mean(enc_expected)), rel=1e-5)
    (out_p, _), _ = apply_net(nets["dec"], "dec", params, s, jax.random.normal(prior_key, (4, 8)), train=True)
    prior = jax.nn.sigmoid(out_p).reshape(4, 32, 32, 1)
    (logits, _), _ = apply_net(
        nets["disc"], "disc", params, s, to_signed(jnp.concatenate([x, prior])), train=True
    )
    expected = 0.5 * (jax.nn.softplus(-logits[:4]) + jax.nn.softplus(logits[4:]))
    disc_loss = updates["disc"].loss(params, state, batch, key)[0]
    assert float(disc_loss) == pytest.approx(float(jnp.mean(expected)), rel=1e-5)
    # with reconstructions judged too, moving the encoder moves D's loss
    family, params, state, batch = setup(discriminate_reconstructions=True)
    disc = {u.name: u for u in family.updates}["disc"]
    moved = {**params, "enc": jax.tree.map(lambda p: p + 0.05, params["enc"])}
    assert (
        abs(float(disc.loss(moved, state, batch, key)[0]) - float(disc.loss(params, state, batch, key)[0]))
        > 1e-5
    )


@pytest.mark.parametrize(
    "real, fake, dec_on, disc_on",
    [
        (0.68, 0.68, True, True),  # balanced: both train
        (0.1, 0.7, True, False),  # D wins on real images: D sits out
        (0.7, 0.2, True, False),  # D wins on fakes: D sits out
        (1.5, 0.6, False, True),  # D loses on real images: the decoder sits out
        (0.1, 1.5, True, True),  # both would sit out: both train
    ],
)
def test_equilibrium_gates_hold_the_network_that_is_far_ahead(real, fake, dec_on, disc_on):
    gates = equilibrium_gates(jnp.float32(real), jnp.float32(fake), 0.68, 0.35)
    assert (bool(gates[0]), bool(gates[1])) == (dec_on, disc_on)


@pytest.mark.parametrize("equilibrium, held", [(5.0, "disc"), (-1.0, "dec")])
def test_a_held_network_keeps_its_params_and_optimizer_state(equilibrium, held):
    """Two compiled steps whose equilibrium says D always wins (5.0: its costs, about 0.7, are far below)
    or always loses (-1.0): the held network and its optimizer state stay as initialised, the others move."""
    from conftest import synthetic_dataset
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxgen import runtime
    from jaxgen import step as step_lib
    from jaxgen.data import feeds

    config = tiny_config("vaegan")
    config.model.equilibrium, config.model.equilibrium_margin = equilibrium, 0.1
    dataset = synthetic_dataset()
    family = runtime.build_family(config)
    keys = runtime.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    ts = jax.device_put(runtime.init_state(family, keys.init), NamedSharding(mesh, P()))
    before = jax.tree.map(np.array, (ts["params"], ts["opt_state"]))
    multi_step = step_lib.make_multi_step(family, 8, mesh, slots=1)
    data = jax.tree.map(jnp.asarray, feeds.device_arrays(family.data, dataset))
    plan = feeds.batch_plan(keys.data, 0, len(data["images"]), None)
    for _ in range(2):
        ts, metrics = multi_step(ts, data, plan, 0, keys.train, 1)
    for net in ("enc", "dec", "disc"):
        same = all(
            np.array_equal(a, b)
            for a, b in zip(
                jax.tree.leaves((before[0][net], before[1][net])),
                jax.tree.leaves((ts["params"][net], ts["opt_state"][net])),
                strict=True,
            )
        )
        assert same == (net == held), net
    assert float(metrics[f"{held}/applied"][0]) == 0.0
    other = {"disc": "dec", "dec": "disc"}[held]
    assert float(metrics[f"{other}/applied"][0]) == 1.0
