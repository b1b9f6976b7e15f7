"""Adversarial autoencoders: priors, the losses of the three families, the labelled subset of semi-supervised
runs, the Gaussian-fit metric and the AAE pictures."""

from __future__ import annotations

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import synthetic_dataset, tiny_config

from jaxgen import config as config_lib
from jaxgen import evaluate, losses, metrics, runtime
from jaxgen import train as train_lib
from jaxgen import workdir as workdir_lib
from jaxgen.data import load_dataset
from jaxgen.data.feeds import labelled_subset
from jaxgen.models import REGISTRY, aae, priors

N = 20_000


# ----------------------------------------------------------------------------------------- priors


@pytest.mark.parametrize("name", sorted(priors.PRIORS))
def test_priors_draw_finite_2d_codes_that_depend_on_the_key(name):
    a = np.asarray(priors.PRIORS[name](jax.random.key(0), 500, 2))
    b = np.asarray(priors.PRIORS[name](jax.random.key(1), 500, 2))
    assert a.shape == (500, 2) and np.isfinite(a).all() and not np.allclose(a, b)
    np.testing.assert_array_equal(a, priors.PRIORS[name](jax.random.key(0), 500, 2))


def test_gaussian_prior_is_standard_normal_in_any_dimension():
    z = np.asarray(priors.gaussian(jax.random.key(0), N, 5))
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(np.cov(z.T), np.eye(5), atol=0.04)


def test_mixture_has_ten_equal_components_on_a_circle():
    z = np.asarray(priors.mixture(jax.random.key(0), N, 2))
    angle = np.mod(np.arctan2(z[:, 1], z[:, 0]) + math.pi / 10, 2 * math.pi)
    component = (angle // (2 * math.pi / 10)).astype(int)
    np.testing.assert_allclose(np.bincount(component, minlength=10) / N, 0.1, atol=0.012)
    radius = np.linalg.norm(z, axis=1)
    assert abs(radius.mean() - priors.MIXTURE_RADIUS) < 0.05
    assert abs(radius.std() - priors.MIXTURE_STD[0]) < 0.05  # stretched along the radius


def test_triangle_is_uniform_inside_its_triangle():
    z = np.asarray(priors.triangle(jax.random.key(0), N, 2))
    angles = [0.5 * math.pi + 2 * math.pi * i / 3 for i in range(3)]
    v = priors.TRIANGLE_RADIUS * np.stack([np.cos(angles), np.sin(angles)], -1)
    # barycentric coordinates: all in [0, 1] inside the triangle
    t = np.linalg.solve(np.stack([v[1] - v[0], v[2] - v[0]], 1), (z - v[0]).T).T
    assert (t >= -1e-6).all() and (t.sum(1) <= 1 + 1e-6).all()
    np.testing.assert_allclose(z.mean(0), v.mean(0), atol=0.03)  # uniform: the mean is the centroid
    # each of the 4 sub-triangles cut by the edge midpoints holds a quarter of the mass
    corner = np.stack([t[:, 0] > 0.5, t[:, 1] > 0.5, t.sum(1) < 0.5], 1)
    np.testing.assert_allclose(corner.mean(0), 0.25, atol=0.012)


def test_donut_is_area_uniform_between_its_radii():
    z = np.asarray(priors.donut(jax.random.key(0), N, 2))
    r2 = np.sum(z**2, 1)
    inner, outer = priors.DONUT_RADII
    assert r2.min() >= inner**2 - 1e-4 and r2.max() <= outer**2 + 1e-4
    assert abs(r2.mean() - (inner**2 + outer**2) / 2) < 0.05  # r^2 uniform
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)


def test_swiss_roll_points_lie_on_a_spiral_whose_radius_grows_with_the_angle(monkeypatch):
    monkeypatch.setattr(priors, "SWISS_ROLL_NOISE", 0.0)
    z = np.asarray(priors.swiss_roll(jax.random.key(0), N, 2), np.float64)
    start, end = priors.SWISS_ROLL_RADII
    radius = np.linalg.norm(z, axis=1)
    t = (radius - start) / (end - start)  # the position along the spiral, read from the radius
    assert t.min() > -1e-4 and t.max() < 1 + 1e-4
    angle = 2 * math.pi * priors.SWISS_ROLL_TURNS * t  # ... must give the point's angle
    np.testing.assert_allclose(z / radius[:, None], np.stack([np.cos(angle), np.sin(angle)], 1), atol=1e-3)
    assert abs(np.mean(t < 0.5) - 0.25) < 0.01  # t = sqrt(u): P(t < 1/2) = 1/4


@pytest.mark.parametrize("name", ["mixture", "triangle", "donut", "swiss_roll"])
def test_shaped_priors_need_two_dimensions(name):
    with pytest.raises(ValueError, match="latent_dim=2"):
        priors.PRIORS[name](jax.random.key(0), 4, 3)
    config = tiny_config("aae")
    config.model.prior, config.model.latent_dim = name, 8
    with pytest.raises(config_lib.ConfigError, match="model.prior"):
        config_lib.validate(config)
    config.model.latent_dim = 2
    config_lib.validate(config)


# ----------------------------------------------------------------------------------------- the AAE


def _family(name, **model):
    config = tiny_config(name)
    config.model.hidden = 16
    for key, value in model.items():
        setattr(config.model, key, value)
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    return config, family, ts["params"], ts["state"]


def _images(n=6, seed=3):
    return jax.random.uniform(jax.random.key(seed), (n, 32, 32, 1))


def test_aae_discriminator_loss_is_prior_real_codes_fake():
    config, family, params, state = _family("aae", latent_dim=2, prior="donut", crop=2)
    disc_update, ae_update = family.updates
    assert disc_update.networks == ("disc",) and ae_update.networks == ("enc", "dec")
    batch, key = {"image": _images()}, jax.random.key(5)
    loss, (m, _) = disc_update.loss(params, state, batch, key)
    codes = family.can.encode(params, state, batch["image"])
    disc = family.networks["disc"]
    real_logits = disc.apply({"params": params["disc"]}, priors.donut(key, 6, 2))
    fake_logits = disc.apply({"params": params["disc"]}, codes)
    assert float(loss) == pytest.approx(
        float(losses.gan_discriminator_loss(real_logits, fake_logits).mean()), 1e-6
    )


def test_aae_autoencoder_loss_adds_the_weighted_adversarial_term():
    _, family, params, state = _family("aae", latent_dim=2, crop=2, recon_loss="bce", adversarial_weight=1.0)
    _, family_half, _, _ = _family("aae", latent_dim=2, crop=2, recon_loss="bce", adversarial_weight=0.5)
    batch = {"image": _images()}
    loss, (m, _) = family.updates[1].loss(params, state, batch, jax.random.key(0))
    half, _ = family_half.updates[1].loss(params, state, batch, jax.random.key(0))
    assert float(loss) == pytest.approx(float(m["recon_bce"] + m["adversarial"]), 1e-6)
    assert float(half) == pytest.approx(float(m["recon_bce"] + 0.5 * m["adversarial"]), 1e-6)
    # the adversarial term is -log D(enc(x)) with D as it stands
    codes = family.can.encode(params, state, batch["image"])
    logits = family.networks["disc"].apply({"params": params["disc"]}, codes)
    assert float(m["adversarial"]) == pytest.approx(float(losses.gan_generator_loss(logits).mean()), 1e-6)


def _noise_is_for_training_only(name, noisy_read, clean_read, params, state, images):
    """Evaluation reads images as they are whatever model.input_noise says, and a negative one is refused."""
    np.testing.assert_array_equal(noisy_read(params, state, images), clean_read(params, state, images))
    config = tiny_config(name)
    config.model.input_noise = -0.1
    with pytest.raises(ValueError, match="input_noise"):
        config_lib.validate(config)


def test_aae_input_noise_reaches_the_training_codes_of_every_update_but_not_evaluation():
    assert tiny_config("aae").model.input_noise == 0.0  # the default: the images as they are
    _, clean, params, state = _family("aae", latent_dim=2, crop=2)
    _, noisy, _, _ = _family("aae", latent_dim=2, crop=2, input_noise=0.3)
    batch, key = {"image": _images()}, jax.random.key(4)
    for a, b in zip(clean.updates, noisy.updates, strict=True):
        loss_noisy, _ = b.loss(params, state, batch, key)
        assert float(a.loss(params, state, batch, key)[0]) != float(loss_noisy), a.name
        assert float(b.loss(params, state, batch, key)[0]) == float(loss_noisy), a.name  # the update's key
    # the autoencoder's update encodes the noisy images and reconstructs the clean ones
    noisy_images = batch["image"] + 0.3 * jax.random.normal(jax.random.fold_in(key, 1), batch["image"].shape)
    codes = noisy.can.encode(params, state, noisy_images)
    _, (m, _) = noisy.updates[1].loss(params, state, batch, key)
    logits = noisy.networks["disc"].apply({"params": params["disc"]}, codes)
    assert float(m["adversarial"]) == pytest.approx(float(losses.gan_generator_loss(logits).mean()), 1e-6)
    _noise_is_for_training_only("aae", noisy.can.encode, clean.can.encode, params, state, batch["image"])


def test_aae_phases_are_the_papers_reconstruction_then_regularisation_with_own_optimizer_states(tmp_path):
    """model.phases: reconstruction (enc, dec), the discriminator, then the encoder fooling it; the encoder
    keeps one optimizer state per phase, and the regularisation phase runs at optim.lr x
    adversarial_lr_scale."""
    phased = {"phases": True, "adversarial_lr_scale": 3.0}
    config, family, params, state = _family("aae", latent_dim=2, crop=2, **phased)
    assert [(u.name, u.networks) for u in family.updates] == [
        ("recon", ("enc", "dec")),
        ("disc", ("disc",)),
        ("gen", ("enc",)),
    ]
    batch = {"image": _images()}
    recon, (m, _) = family.updates[0].loss(params, state, batch, jax.random.key(0))
    _, (joint, _) = _family("aae", latent_dim=2, crop=2)[1].updates[1].loss(params, state, batch, None)
    assert float(recon) == pytest.approx(float(joint["recon_bce"]), 1e-6)  # no adversarial term in it
    fool, _ = family.updates[2].loss(params, state, batch, jax.random.key(0))
    assert float(fool) == pytest.approx(float(joint["adversarial"]), 1e-6)
    grad = jnp.ones(())
    for update, scale in zip(family.updates, (1.0, 3.0, 3.0), strict=True):
        step, _ = update.optimizer.update(grad, update.optimizer.init(grad))  # Adam's first step: lr
        assert float(-step) == pytest.approx(config.optim.lr * scale, rel=1e-4), update.name
    ts = train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    assert set(ts["opt_state"]["phases"]) == {"recon", "disc", "gen"}
    assert set(ts["opt_state"]["phases"]["gen"]) == {"enc"}


def test_aae_disc_repeats_update_the_discriminator_that_many_times_per_step(tmp_path):
    """model.disc_repeats: the discriminator takes that many Adam steps per training step, the
    autoencoder one."""
    config, family, _, _ = _family("aae", latent_dim=2, crop=2, disc_repeats=3)
    assert [(u.name, u.repeat) for u in family.updates] == [("disc", 3), ("ae", 1)]

    def adam_counts(ts, network):
        return {
            int(leaf)
            for path, leaf in jax.tree_util.tree_leaves_with_path(ts["opt_state"][network])
            if "count" in jax.tree_util.keystr(path)
        }

    ts = train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    assert adam_counts(ts, "disc") == {3 * config.train.num_steps}
    assert adam_counts(ts, "enc") == adam_counts(ts, "dec") == {config.train.num_steps}


def test_aae_fourier_discriminator_reads_sinusoids_of_the_codes_and_the_digit_as_it_is():
    """model.disc_fourier: the discriminator reads the codes beside sin and cos of 2 pi x B (B trained,
    drawn N(0, scale^2) from the init key); the one-hot digit of a labelled prior bypasses the sinusoids.
    Default 0: the raw codes alone, the same parameters as before the option."""
    assert tiny_config("aae").model.disc_fourier == 0
    plain = _family("aae", latent_dim=2, crop=2)[2]["disc"]
    assert "FourierFeatures_0" not in plain and plain["Dense_0"]["kernel"].shape == (2, 16)
    opts = {"latent_dim": 2, "crop": 2, "prior": "mixture", "label_prior": True, "disc_fourier": 8}
    config, family, params, state = _family("aae", disc_fourier_scale=3.0, **opts)
    disc = params["disc"]
    frequencies = disc["FourierFeatures_0"]["frequencies"]
    assert frequencies.shape == (2, 8) and disc["Dense_0"]["kernel"].shape == (10 + 2 + 16, 16)
    assert 1.0 < float(jnp.std(frequencies)) < 6.0  # drawn at scale 3
    digits, codes = jax.nn.one_hot(jnp.array([3, 7]), 10), jax.random.normal(jax.random.key(1), (2, 2))
    phases = 2 * jnp.pi * codes @ frequencies
    features = jnp.concatenate([digits, codes, jnp.sin(phases), jnp.cos(phases)], -1)
    layers = [disc[f"Dense_{i}"] for i in range(config.model.depth + 1)]
    for layer in layers[:-1]:
        features = jax.nn.relu(features @ layer["kernel"] + layer["bias"])
    expected = (features @ layers[-1]["kernel"] + layers[-1]["bias"])[:, 0]
    got = family.networks["disc"].apply({"params": disc}, jnp.concatenate([digits, codes], -1))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # the frequencies are trained with the rest of the discriminator
    grads = jax.grad(lambda p: family.updates[0].loss(p, state, _labelled_batch(), jax.random.key(2))[0])(
        params
    )
    assert float(jnp.abs(grads["disc"]["FourierFeatures_0"]["frequencies"]).max()) > 0
    config.model.disc_fourier = -1
    with pytest.raises(ValueError, match="disc_fourier"):
        config_lib.validate(config)


def _labelled_batch(n=6):
    return {"image": _images(n), "label": jnp.arange(n) % 10}


def _disc_around_the_roll(key, n):
    """Uniform draws [n, 2] from the disc that holds the swiss roll (radius 3.6)."""
    return priors.annulus(key, n, 0.0, 3.6)


def test_fourier_features_let_a_discriminator_find_the_swiss_roll_sooner():
    """The reason for model.disc_fourier: told swiss-roll draws from a uniform disc around them, the same
    small discriminator separates them after 150 Adam steps only when it reads the codes as sinusoids."""

    def accuracy_after_training(fourier):
        disc = aae.Discriminator((64, 64), fourier=fourier)
        params = disc.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
        opt = optax.adam(1e-3, b1=0.5)

        def disc_loss(p, key):
            real_key, fake_key = jax.random.split(key)
            real = disc.apply({"params": p}, priors.swiss_roll(real_key, 128, 2))
            fake = disc.apply({"params": p}, _disc_around_the_roll(fake_key, 128))
            return losses.gan_discriminator_loss(real, fake).mean()

        @jax.jit
        def step(p, opt_state, key):
            updates, opt_state = opt.update(jax.grad(disc_loss)(p, key), opt_state, p)
            return optax.apply_updates(p, updates), opt_state

        opt_state = opt.init(params)
        for i in range(150):
            params, opt_state = step(params, opt_state, jax.random.key(i))
        real = disc.apply({"params": params}, priors.swiss_roll(jax.random.key(1000), 4000, 2))
        fake = disc.apply({"params": params}, _disc_around_the_roll(jax.random.key(1001), 4000))
        return float(0.5 * (jnp.mean(real > 0) + jnp.mean(fake < 0)))

    plain, fourier = accuracy_after_training(0), accuracy_after_training(64)
    assert fourier > 0.75 and fourier > plain + 0.1, (plain, fourier)


def test_aae_samples_decode_prior_draws():
    _, family, params, state = _family("aae", latent_dim=2, prior="swiss_roll", crop=2)
    key = jax.random.key(4)
    drawn = family.can.sample(params, state, key, 5)["images"]
    np.testing.assert_allclose(
        drawn, family.can.decode(params, state, priors.swiss_roll(key, 5, 2)), atol=1e-6
    )
    assert family.can.code_space == "data"
    assert _family("aae", latent_dim=2, prior="gaussian", crop=2)[1].can.code_space == "gaussian"


# ----------------------------------------------------------------------------------------- style models


def test_plain_style_autoencoder_has_no_discriminator():
    _, sae, _, _ = _family("style_aae", adversarial_weight=0.0)
    _, styled, _, _ = _family("style_aae", adversarial_weight=0.1)
    assert set(sae.networks) == {"enc", "dec"} and [u.name for u in sae.updates] == ["ae"]
    assert set(styled.networks) == {"enc", "dec", "disc"} and [u.name for u in styled.updates] == [
        "disc",
        "ae",
    ]


def test_style_discriminator_is_digit_aware():
    """Real and fake both carry the batch's one-hot digits; real styles are N(0, I) draws."""
    _, family, params, state = _family("style_aae", arch="mlp", crop=2, latent_dim=3)
    labels = jnp.asarray([0, 3, 3, 7, 9, 1])
    batch, key = {"image": _images(), "label": labels}, jax.random.key(8)
    loss, _ = family.updates[0].loss(params, state, batch, key)
    onehot = jax.nn.one_hot(labels, 10)
    style = family.can.encode(params, state, batch["image"])
    disc = family.networks["disc"]
    real = disc.apply({"params": params["disc"]}, jnp.concatenate([onehot, priors.gaussian(key, 6, 3)], -1))
    fake = disc.apply({"params": params["disc"]}, jnp.concatenate([onehot, style], -1))
    assert float(loss) == pytest.approx(float(losses.gan_discriminator_loss(real, fake).mean()), 1e-6)


def test_style_autoencoder_decodes_the_true_digit_and_classifies_it():
    config, family, params, state = _family(
        "style_aae", arch="mlp", crop=2, latent_dim=3, label_weight=0.5, recon_loss="mse"
    )
    labels = jnp.asarray([0, 3, 3, 7, 9, 1])
    batch = {"image": _images(), "label": labels}
    loss, (m, _) = family.updates[1].loss(params, state, batch, jax.random.key(0))
    logits, style, _ = _encode_both(family, params, state, batch["image"])

    def mse(digits):
        decoded = _write(family, params, state, digits, style)
        return jnp.mean((decoded[:, 2:30, 2:30] - batch["image"][:, 2:30, 2:30]) ** 2)

    assert float(m["recon_mse"]) == pytest.approx(float(mse(labels)), 1e-5)  # decoded from the labels ...
    assert float(m["recon_mse"]) != pytest.approx(float(mse(jnp.argmax(logits, -1))), 1e-5)  # not predictions
    ce = losses.softmax_cross_entropy(logits, labels).mean()
    assert float(m["cross_entropy"]) == pytest.approx(float(ce), 1e-6)
    expected = m["recon_mse"] + 0.5 * ce + config.model.adversarial_weight * m["adversarial"]
    assert float(loss) == pytest.approx(float(expected), 1e-6)


def _encode_both(family, params, state, images):
    """The encoder's (digit logits, style) computed by hand from its module (mlp: the cropped pixels)."""
    enc = family.networks["enc"]
    x = images[:, 2:30, 2:30].reshape(images.shape[0], -1) if "Dense_1" in params["enc"] else images
    out = enc.apply({"params": params["enc"]}, x)
    return out[:, :10], out[:, 10:], state


def _write(family, params, state, digits, style):
    """Images of (digits, style) by hand: sigmoid of the decoder over the 28x28 digit box, zero border."""
    out = family.networks["dec"].apply(
        {"params": params["dec"]}, jnp.concatenate([jax.nn.one_hot(digits, 10), style], -1)
    )
    pixels = (
        jax.nn.sigmoid(out).reshape(-1, 28, 28, 1) if out.ndim == 2 else jax.nn.sigmoid(out)[:, 2:30, 2:30]
    )
    return jnp.pad(pixels, ((0, 0), (2, 2), (2, 2), (0, 0)))


@pytest.mark.parametrize("arch", ["conv", "mlp"])
def test_restyle_and_the_digit_sweep_write_styles_as_digits(arch):
    _, family, params, state = _family("style_aae", arch=arch, crop=2, latent_dim=3)
    images = _images(3)
    table = np.asarray(family.pictures.restyle(params, state, images))
    assert table.shape == (3, 10, 32, 32, 1)
    style = family.can.encode(params, state, images)
    for d in (0, 7):
        np.testing.assert_allclose(
            table[:, d], _write(family, params, state, jnp.full((3,), d), style), atol=1e-5
        )
    assert not np.allclose(table[:, 0], table[:, 1])  # the digit changes the picture
    key = jax.random.key(2)
    sweep = np.asarray(family.pictures.sweeps(params, state, key, 4)["digits"])
    styles = priors.gaussian(key, 4, 3)
    assert sweep.shape == (10, 4, 32, 32, 1)
    np.testing.assert_allclose(sweep[5], _write(family, params, state, jnp.full((4,), 5), styles), atol=1e-5)
    drawn = family.can.sample(params, state, key, 20)
    assert np.bincount(np.asarray(drawn["labels"]), minlength=10).tolist() == [2] * 10


# ----------------------------------------------------------------------------------------- semi-supervised


def test_labelled_subset_is_balanced_deterministic_and_seeded():
    labels = np.repeat(np.arange(10), 30)[np.random.default_rng(0).permutation(300)].astype(np.int32)
    chosen = labelled_subset(jax.random.key(0), labels, 40)
    assert len(set(chosen.tolist())) == 40 and np.bincount(labels[chosen]).tolist() == [4] * 10
    np.testing.assert_array_equal(chosen, labelled_subset(jax.random.key(0), labels, 40))
    assert not np.array_equal(chosen, labelled_subset(jax.random.key(1), labels, 40))
    with pytest.raises(ValueError, match="class"):
        labelled_subset(jax.random.key(0), labels, 310)


def test_semi_supervised_losses_never_read_the_unlabelled_labels():
    # clean inputs, so that the label phase's loss can be computed by hand below
    _, family, params, state = _family("ssaae", arch="mlp", crop=2, latent_dim=3, input_noise=0.0)
    assert family.data == "labelled_subset"
    images = _images(6)
    labelled = {"labelled_image": _images(6, seed=9), "labelled_label": jnp.asarray([1, 2, 3, 4, 5, 6])}
    hidden = {"image": images, "label": jnp.full((6,), -1), **labelled}
    leaked = {"image": images, "label": jnp.asarray([0, 1, 2, 3, 4, 5]), **labelled}
    for update in family.updates:
        a, _ = update.loss(params, state, hidden, jax.random.key(1))
        b, _ = update.loss(params, state, leaked, jax.random.key(1))
        assert float(a) == float(b), update.name
    # ... while the labelled batch's labels do count, in the classification phase
    updates = {u.name: u for u in family.updates}
    relabelled = {**hidden, "labelled_label": jnp.asarray([0, 0, 0, 0, 0, 0])}
    a, (m, _) = updates["label"].loss(params, state, hidden, jax.random.key(1))
    c, _ = updates["label"].loss(params, state, relabelled, jax.random.key(1))
    assert float(a) != float(c)
    logits, _, _ = _encode_both(family, params, state, labelled["labelled_image"])
    ce = losses.softmax_cross_entropy(logits, labelled["labelled_label"]).mean()
    assert float(a) == pytest.approx(float(ce), 1e-6)


def test_semi_supervised_input_noise_reaches_every_training_phase_but_not_evaluation():
    assert tiny_config("ssaae").model.input_noise == 0.3  # the default
    _, clean, params, state = _family("ssaae", arch="mlp", crop=2, latent_dim=3, input_noise=0.0)
    _, noisy, _, _ = _family("ssaae", arch="mlp", crop=2, latent_dim=3, input_noise=0.3)
    labelled = {"labelled_image": _images(6, seed=9), "labelled_label": jnp.arange(6)}
    batch = {"image": _images(6), "label": jnp.full((6,), -1), **labelled}
    key = jax.random.key(2)
    for a, b in zip(clean.updates, noisy.updates, strict=True):
        loss_clean, _ = a.loss(params, state, batch, key)
        loss_noisy, _ = b.loss(params, state, batch, key)
        repeat, _ = b.loss(params, state, batch, key)
        assert float(loss_clean) != float(loss_noisy), a.name  # the noise is drawn ...
        assert float(repeat) == float(loss_noisy), a.name  # ... from the update's key
    # the label phase's loss is the cross-entropy on the images plus 0.3 x N(0, 1) from the key
    label = {u.name: u for u in noisy.updates}["label"]
    loss, _ = label.loss(params, state, batch, key)
    images = labelled["labelled_image"] + 0.3 * jax.random.normal(key, labelled["labelled_image"].shape)
    logits, _, _ = _encode_both(noisy, params, state, images)
    ce = losses.softmax_cross_entropy(logits, labelled["labelled_label"]).mean()
    assert float(loss) == pytest.approx(float(ce), 1e-6)
    _noise_is_for_training_only(
        "ssaae", noisy.can.classify, clean.can.classify, params, state, batch["image"]
    )


def test_semi_supervised_phases_train_their_networks_with_their_own_rates_and_states(tmp_path):
    """The paper's phases: reconstruction (enc, dec), discriminators, encoder vs discriminators, labelled
    cross-entropy (enc); each has its own optimizer state, at optim.lr x its model.*_lr_scale."""
    config = tiny_config("ssaae")
    config.optim.name, config.optim.lr, config.optim.momentum = "sgd", 0.5, 0.0
    scales = {"recon_lr_scale": 0.1, "adversarial_lr_scale": 0.2, "label_lr_scale": 0.3}
    config.model.update(scales)
    family = runtime.build_family(config, synthetic_dataset())
    assert [(u.name, u.networks) for u in family.updates] == [
        ("recon", ("enc", "dec")),
        ("disc", ("disc_cat", "disc_style")),
        ("gen", ("enc",)),
        ("label", ("enc",)),
    ]
    adam = tiny_config("ssaae")
    adam.data.num_labels = 20
    ts = train_lib.train(adam, tmp_path, dataset=synthetic_dataset())  # 2 steps
    assert set(ts["opt_state"]) == {"phases"}  # no state is shared between phases
    counts = {
        (phase, net): int(jax.tree.leaves(state)[0])
        for phase, nets in ts["opt_state"]["phases"].items()
        for net, state in nets.items()
    }
    assert counts == {
        ("recon", "enc"): 2,
        ("recon", "dec"): 2,
        ("disc", "disc_cat"): 2,
        ("disc", "disc_style"): 2,
        ("gen", "enc"): 2,
        ("label", "enc"): 2,
    }
    grad = jnp.ones(())
    for update, lr in zip(family.updates, (0.05, 0.1, 0.1, 0.15), strict=True):  # plain SGD: step = lr
        step, _ = update.optimizer.update(grad, update.optimizer.init(grad))
        assert float(-step) == pytest.approx(lr, rel=1e-6), update.name


def test_semi_supervised_discriminators_see_one_hot_digits_and_gaussian_styles():
    # clean inputs, so that the encoder's codes can be computed by hand (the noise has its own test)
    _, family, params, state = _family("ssaae", arch="mlp", crop=2, latent_dim=3, input_noise=0.0)
    key = jax.random.key(3)
    disc = next(u for u in family.updates if u.name == "disc")
    loss, _ = disc.loss(params, state, {"image": _images()}, key)
    cat_key, style_key = jax.random.split(key)
    logits, style, _ = _encode_both(family, params, state, _images())
    real_cat = jax.nn.one_hot(jax.random.randint(cat_key, (6,), 0, 10), 10)

    def d(name, x):
        return family.networks[name].apply({"params": params[name]}, x)

    expected = losses.gan_discriminator_loss(d("disc_cat", real_cat), d("disc_cat", jax.nn.softmax(logits)))
    expected += losses.gan_discriminator_loss(
        d("disc_style", priors.gaussian(style_key, 6, 3)), d("disc_style", style)
    )
    assert float(loss) == pytest.approx(float(expected.mean()), 1e-6)


def _indexed_dataset(n_train=60):
    """Train image i is the constant i (so a batch tells which images it holds); labels i % 10."""
    data = synthetic_dataset(n_train, 20)
    images = np.broadcast_to(np.arange(n_train, dtype=np.uint8)[:, None, None, None], (n_train, 32, 32, 1))
    return dataclasses.replace(data, train_images=np.ascontiguousarray(images))


def test_trainer_hides_unlabelled_labels_and_draws_labelled_batches_from_the_subset(monkeypatch, tmp_path):
    seen = []
    original = aae.make_semi_supervised_aae

    def spying(model, setup):
        family = original(model, setup)
        ae = family.updates[1]

        def loss(params, state, batch, key):
            jax.debug.callback(
                lambda *xs: seen.append([np.asarray(x) for x in xs]),
                batch["label"],
                batch["labelled_image"][:, 5, 5, 0],
                batch["labelled_label"],
            )
            return ae.loss(params, state, batch, key)

        return dataclasses.replace(family, updates=(family.updates[0], dataclasses.replace(ae, loss=loss)))

    monkeypatch.setitem(REGISTRY, "ssaae", dataclasses.replace(REGISTRY["ssaae"], make=spying))
    config = tiny_config("ssaae", num_steps=3)
    config.data.num_labels = 20
    train_lib.train(config, tmp_path, dataset=_indexed_dataset())
    record = json.loads((tmp_path / "labelled_subset.json").read_text())
    subset = set(record["indices"])
    assert len(subset) == 20 and record["per_class"] == [2] * 10
    assert len(seen) == 3
    for labels, labelled_pixels, labelled_labels in seen:
        assert (labels == -1).all()
        index = np.rint(labelled_pixels * 255).astype(int)
        assert set(index.tolist()) <= subset
        np.testing.assert_array_equal(labelled_labels, index % 10)
    assert len({tuple(s[1].tolist()) for s in seen}) == 3  # fresh labelled draws every step


def test_semi_supervised_runs_resume_exactly_and_keep_their_labelled_subset(tmp_path):
    config = tiny_config("ssaae", num_steps=4, checkpoint_every=2)
    config.data.num_labels = 20
    dataset = synthetic_dataset()
    whole = train_lib.train(config, tmp_path / "whole", dataset=dataset)
    config.train.num_steps = 2
    train_lib.train(config, tmp_path / "split", dataset=dataset)
    config.train.num_steps = 4
    resumed = train_lib.train(config, tmp_path / "split", dataset=dataset)
    jax.tree.map(np.testing.assert_array_equal, whole["params"], resumed["params"])
    config.data.num_labels = 30
    with pytest.raises(workdir_lib.WorkdirError, match="data.num_labels 20 -> 30"):
        train_lib.train(config, tmp_path / "split", dataset=dataset)
    with pytest.raises(config_lib.ConfigError, match="another labelled subset"):  # even when asked to resume
        train_lib.train(config, tmp_path / "split", dataset=dataset, allow_config_change=True)


def test_many_seeds_choose_their_own_labelled_subsets_and_match_separate_runs(tmp_path):
    config = tiny_config("ssaae", num_steps=2)
    config.model.arch, config.model.crop, config.model.hidden = "mlp", 2, 16
    config.data.num_labels = 20
    dataset = synthetic_dataset()
    stacked = train_lib.train(config, tmp_path / "seeds", seeds=[0, 1], dataset=dataset)
    subsets = [
        json.loads((tmp_path / "seeds" / f"seed_{s}" / "labelled_subset.json").read_text()) for s in (0, 1)
    ]
    assert subsets[0]["indices"] != subsets[1]["indices"]
    config.seed = 1
    alone = train_lib.train(config, tmp_path / "alone", dataset=dataset)
    assert json.loads((tmp_path / "alone" / "labelled_subset.json").read_text()) == subsets[1]
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a[1], b, rtol=1e-4, atol=1e-6),
        stacked["params"],
        alone["params"],
    )


def test_num_labels_is_refused_for_fully_supervised_models_and_must_be_balanced(tmp_path):
    config = tiny_config("style_aae")
    config.data.num_labels = 20
    with pytest.raises(config_lib.ConfigError, match="semi-supervised"):
        train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    config.data.num_labels = 25
    with pytest.raises(config_lib.ConfigError, match="multiple of 10"):
        config_lib.validate(config)


def test_zero_num_labels_means_all_labels(tmp_path):
    config = tiny_config("ssaae", num_steps=1)
    config.data.num_labels = 0
    train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    record = json.loads((tmp_path / "labelled_subset.json").read_text())
    assert record["indices"] == "all" and record["num_labels"] == 96


# ----------------------------------------------------------------------------------------- metric, pictures


def test_gaussian_fit_matches_scipy_and_separates_fits_from_misfits():
    from scipy import stats

    rng = np.random.default_rng(0)
    good = rng.normal(size=(4000, 3))
    fit = metrics.gaussian_fit(good)
    ks = [stats.kstest(good[:, i], "norm") for i in range(3)]
    assert fit["ks_median"] == pytest.approx(np.median([k.statistic for k in ks]))
    assert fit["distribution_error"] == pytest.approx(np.median([-np.log10(k.pvalue) for k in ks]))
    assert fit["ks_median"] < 0.03 and fit["distribution_error"] < 2
    shifted = metrics.gaussian_fit(good + 0.5)
    assert shifted["ks_median"] > 0.15 and shifted["distribution_error"] > 50
    # every class shifted its own way, the mixture still roughly N(0, 1): only the per-class fit sees it
    labels = np.arange(4000) % 2
    split = np.where(labels[:, None] == 0, rng.normal(-0.8, 0.6, (4000, 3)), rng.normal(0.8, 0.6, (4000, 3)))
    per_class = metrics.gaussian_fit(split, labels)
    assert per_class["ks_median_per_class"] > 3 * per_class["ks_median"]


def test_style_aae_eval_and_viz(tmp_path, idx_dir):
    from test_evaluate import small_eval

    from jaxgen.embed import draw_figures
    from jaxgen.evaluate import evaluate

    config = small_eval(tiny_config("style_aae"), idx_dir)
    config.model.latent_dim = 3
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    report = evaluate(config, tmp_path)
    model = report["model"]
    for name in ("test_accuracy", "test_error", "test_l1", "code_ks_median", "code_distribution_error"):
        assert np.isfinite(model[name]), name
    assert model["test_accuracy"] + model["test_error"] == pytest.approx(1.0)
    assert model["prior_distance"] > 0 and model["prior_distance_floor"] > 0  # the styles against N(0, I)
    assert model["prior_distance_ratio"] == pytest.approx(
        model["prior_distance"] / model["prior_distance_floor"]
    )
    assert 0 <= report["samples"]["label_accuracy"] <= 1
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert {"style_distributions.png", "style_transfer.png", "sweep_digits.png", "codes.png"} <= written


def test_aae_viz_draws_the_prior_fit(tmp_path, idx_dir):
    from test_evaluate import small_eval

    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("aae"), idx_dir)
    config.model.latent_dim, config.model.prior, config.model.crop = 2, "mixture", 2
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert {"prior_fit.png", "manifold.png"} <= written
    assert (tmp_path / "figures" / "prior_fit.png").stat().st_size > 5000


def test_code_discriminator_and_fooling_losses_by_hand():
    """-log D(real) - log(1 - D(fake)) with the fakes' gradient stopped; the encoder's -log D(fake)."""
    disc = aae.Discriminator(())  # a linear unit: logit = w . code + b
    params = {"disc": {"Dense_0": {"kernel": jnp.asarray([[1.0], [-1.0]]), "bias": jnp.asarray([0.5])}}}
    state = {"disc": {}}
    real, fake = jnp.asarray([[1.0, 0.0], [0.0, 0.0]]), jnp.asarray([[0.0, 2.0], [1.0, 1.0]])
    loss, accuracy, _ = aae.code_discriminator_loss(disc, "disc", params, state, real, fake)
    real_logits, fake_logits = np.array([1.5, 0.5]), np.array([-1.5, 0.5])
    expected = np.log1p(np.exp(-real_logits)) + np.log1p(np.exp(fake_logits))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    assert float(accuracy) == pytest.approx(0.5 * (1.0 + 0.5))  # both reals right, one fake of two
    grad = jax.grad(lambda f: aae.code_discriminator_loss(disc, "disc", params, state, real, f)[0].sum())(
        fake
    )
    assert not np.asarray(grad).any()  # the discriminator's loss never moves the encoder
    fooling, _ = aae.fooling_loss(disc, "disc", params, state, fake)
    assert float(fooling) == pytest.approx(float(np.mean(np.log1p(np.exp(-fake_logits)))), rel=1e-6)


# ----------------------------------------------------------------------------------------- labelled priors


@pytest.mark.parametrize("name", sorted(priors.PARTS))
def test_each_digit_owns_a_tenth_of_the_prior_and_uniform_digits_draw_the_whole_prior(name):
    parts = jnp.repeat(jnp.arange(10), N // 10)
    z = np.asarray(priors.PARTS[name](jax.random.key(0), parts))
    whole = np.asarray(priors.PRIORS[name](jax.random.key(1), N, 2))
    if name == "mixture":  # part k is the petal at angle 2 pi k / 10
        angle = np.mod(np.arctan2(z[:, 1], z[:, 0]) + math.pi / 10, 2 * math.pi)
        assert np.mean((angle // (2 * math.pi / 10)).astype(int) == np.asarray(parts)) > 0.99
    else:  # part k is the stretch of the spiral from sqrt(k / 10) to sqrt((k + 1) / 10) of its length
        start, end = priors.SWISS_ROLL_RADII
        t = (np.linalg.norm(z, axis=1) - start) / (end - start)
        medians = [np.median(t[np.asarray(parts) == k]) for k in range(10)]
        assert np.all(np.diff(medians) > 0)  # the parts follow each other along the roll
        np.testing.assert_allclose(medians, np.sqrt((np.arange(10) + 0.5) / 10), atol=0.03)
    # the parts together are the prior: the same radius quantiles as the unlabelled sampler
    quantiles = [0.1, 0.25, 0.5, 0.75, 0.9]
    np.testing.assert_allclose(
        np.quantile(np.linalg.norm(z, axis=1), quantiles),
        np.quantile(np.linalg.norm(whole, axis=1), quantiles),
        atol=0.05,
    )


def test_label_prior_shows_the_digit_to_the_discriminator_and_draws_reals_from_its_part():
    config, family, params, state = _family("aae", latent_dim=2, prior="mixture", crop=2, label_prior=True)
    labels = jnp.asarray([0, 3, 3, 7, 9, 1])
    batch, key = {"image": _images(), "label": labels}, jax.random.key(5)
    loss, _ = family.updates[0].loss(params, state, batch, key)
    codes = family.can.encode(params, state, batch["image"])
    onehot = jax.nn.one_hot(labels, 10)
    disc = family.networks["disc"]
    real_logits = disc.apply(
        {"params": params["disc"]}, jnp.concatenate([onehot, priors.mixture_parts(key, labels)], -1)
    )
    fake_logits = disc.apply({"params": params["disc"]}, jnp.concatenate([onehot, codes], -1))
    expected = losses.gan_discriminator_loss(real_logits, fake_logits).mean()
    assert float(loss) == pytest.approx(float(expected), 1e-6)
    # the encoder fools the same digit-aware discriminator
    _, (m, _) = family.updates[1].loss(params, state, batch, key)
    assert float(m["adversarial"]) == pytest.approx(
        float(losses.gan_generator_loss(fake_logits).mean()), 1e-6
    )
    # samples are balanced digits decoded from their petals, and carry their labels
    drawn = family.can.sample(params, state, jax.random.key(2), 20)
    assert np.bincount(np.asarray(drawn["labels"]), minlength=10).tolist() == [2] * 10
    assert drawn["images"].shape == (20, 32, 32, 1)


def test_label_prior_needs_a_prior_with_a_part_per_digit():
    config = tiny_config("aae")
    config.model.latent_dim, config.model.label_prior = 2, True
    for name in ("gaussian", "donut", "triangle"):
        config.model.prior = name
        with pytest.raises(config_lib.ConfigError, match="model.label_prior"):
            config_lib.validate(config)
    config.model.prior = "swiss_roll"
    config_lib.validate(config)


@pytest.mark.parametrize("name", sorted(priors.PARTS))
def test_a_label_split_prior_is_measured_at_the_codes_own_labels(name):
    """Codes drawn exactly from their digits' parts, with MNIST's unequal digit frequencies, fit their prior:
    the distance is near the floor when the prior is drawn at those labels, far above it with equal parts."""
    counts = np.array([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])  # MNIST's test digits
    labels = jnp.asarray(np.repeat(np.arange(10), counts))
    codes = priors.PARTS[name](jax.random.key(1), labels)
    _, family, _, _ = _family("aae", latent_dim=2, prior=name, label_prior=True)
    fit = evaluate.prior_fit(family.can.prior, jax.random.key(2), codes, labels)
    assert fit["prior_distance_ratio"] < 1.5
    equal_parts = metrics.prior_distance(jax.random.key(2), codes, family.can.prior.draw)
    assert equal_parts["prior_distance"] > 1.5 * fit["prior_distance"]
    _, unlabelled, _, _ = _family("aae", latent_dim=2, prior=name)
    assert unlabelled.can.prior.draw_given is None
