"""Autoencoder variants as config fields: code penalties, sigmoid codes, masking noise with a clean target."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import tiny_config

from jaxgen import config as config_lib
from jaxgen import losses
from jaxgen.models import Setup, apply_net, autoencoder, init_networks
from jaxgen.models.autoencoder import make


def family_and_params(**model_fields):
    model = tiny_config("ae").model
    model.crop = 0  # the whole 32x32 image unless a test asks for the digit's 28x28
    for key, value in model_fields.items():
        setattr(model, key, value)
    family = make(model, Setup((32, 32, 1), optax.adam(1e-3)))
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
    codes = family.can.encode(params, state, batch()["image"] * 50.0)
    assert float(codes.min()) > 0.0 and float(codes.max()) < 1.0
    assert family.can.code_space == "unit_box"


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


def finite_difference_jacobian(f, x, eps=1e-3):
    """d f / d x by central differences, one input coordinate at a time, in float64 [out, in]."""
    x = np.asarray(x, np.float64)
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        columns.append(
            (np.asarray(f(x + step), np.float64) - np.asarray(f(x - step), np.float64)) / (2 * eps)
        )
    return np.stack(columns, axis=1)


def test_contractive_penalty_is_the_squared_frobenius_norm_of_a_brute_force_jacobian():
    with jax.enable_x64():
        family, params, state = family_and_params(
            arch="mlp", hidden=6, depth=1, crop=13, latent_dim=3, code_activation="sigmoid", contractive=0.5
        )  # crop 13 of 32: 6x6 = 36 input pixels
        params = jax.tree.map(lambda p: p.astype(jnp.float64), params)
        images = jax.random.uniform(jax.random.key(4), (3, 32, 32, 1), jnp.float64)
        enc = family.networks["enc"]
        inputs = images[:, 13:19, 13:19, :].reshape(3, -1)

        def encode_one(x):
            return enc.apply({"params": params["enc"]}, jnp.asarray(x)[None], train=False)[0]

        brute = [np.sum(finite_difference_jacobian(encode_one, x) ** 2) for x in np.asarray(inputs)]
        penalty = autoencoder.contractive_penalty(encode_one, inputs)
        np.testing.assert_allclose(np.asarray(penalty), brute, rtol=1e-6)
        # the seed's penalty, the gradient of the summed code, is a different (smaller here) number
        seed_penalty = [
            np.sum(finite_difference_jacobian(encode_one, x).sum(0) ** 2) for x in np.asarray(inputs)
        ]
        assert not np.allclose(brute, seed_penalty, rtol=1e-2)
        # and the training loss adds it with its weight to the reconstruction error
        total, (metrics, _) = family.updates[0].loss(params, state, {"image": images}, jax.random.key(5))
        assert float(metrics["jacobian_frobenius2"]) == pytest.approx(float(np.mean(brute)), rel=1e-6)
        assert float(total) == pytest.approx(
            float(metrics["recon_mse"]) + 0.5 * float(np.mean(brute)), rel=1e-6
        )


def test_contractive_penalty_needs_an_encoder_without_batch_norm():
    config = tiny_config("ae")
    config.model.arch, config.model.contractive = "conv", 0.1
    with pytest.raises(ValueError, match="without BatchNorm"):
        config_lib.validate(config)


def test_linear_autoencoder_is_the_matrix_it_draws():
    family, params, state = family_and_params(arch="linear", latent_dim=784, crop=2)
    assert all(
        "bias" not in jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_leaves_with_path(params)
    )
    images = batch()["image"]
    flat = images[:, 2:30, 2:30, :].reshape(4, -1)
    matrix = family.pictures.matrices(params)["W2·W1"]
    assert matrix.shape == (784, 784)
    expected = np.clip(np.asarray(flat @ matrix.T), 0.0, 1.0)  # column convention: x_hat = W2 W1 x
    recon = np.asarray(family.can.reconstruct(params, state, images))
    np.testing.assert_allclose(recon[:, 2:30, 2:30, 0].reshape(4, -1), expected, atol=1e-5)
    assert not recon[:, :2].any()  # the padding stays empty


@pytest.mark.parametrize("arch", ["mlp", "fully_conv", "conv_linear", "linear"])
def test_architectures_give_codes_of_latent_dim_and_images_in_range(arch):
    latent = {"fully_conv": 64, "linear": 784}.get(arch, 16)
    family, params, state = family_and_params(
        arch=arch, latent_dim=latent, crop=2 if arch in ("mlp", "linear") else 0
    )
    images = batch()["image"]
    codes = family.can.encode(params, state, images)
    assert codes.shape == (4, latent)
    recon = family.can.reconstruct(params, state, images)
    assert recon.shape == images.shape and 0.0 <= float(recon.min()) and float(recon.max()) <= 1.0
    loss, _ = family.updates[0].loss(params, state, batch(), jax.random.key(0))
    grads = jax.grad(lambda p: family.updates[0].loss(p, state, batch(), jax.random.key(0))[0])(params)
    assert np.isfinite(float(loss)) and all(np.any(np.asarray(g) != 0) for g in jax.tree.leaves(grads))


def test_fully_conv_code_map_must_tile_the_latent_size():
    config = tiny_config("ae")
    config.model.arch, config.model.latent_dim = "fully_conv", 40
    with pytest.raises(ValueError, match="multiple of 16"):
        config_lib.validate(config)


def test_denoising_family_exposes_its_corruption_and_plain_ones_do_not():
    family, _, _ = family_and_params(input_dropout=0.3)
    images = jnp.ones((2, 32, 32, 1))
    corrupted = np.asarray(family.pictures.corrupt(jax.random.key(0), images))
    assert 0.2 < 1.0 - corrupted.mean() < 0.4 and set(np.unique(corrupted)) <= {0.0, 1.0}
    assert family_and_params()[0].pictures.corrupt is None


@pytest.mark.parametrize("dark_start", [True, False])
def test_sigmoid_codes_of_an_mlp_ae_do_not_saturate_in_the_first_steps(dark_start, monkeypatch):
    """Regression: with a grey (bias 0) output at init, Adam drove all 2-d sigmoid codes to 1 in 150 steps."""
    from conftest import synthetic_arrays

    if not dark_start:
        monkeypatch.setattr(autoencoder, "MEAN_PIXEL_LOGIT", 0.0)
    model = tiny_config("ae").model
    model.arch, model.latent_dim, model.code_activation, model.hidden, model.depth, model.crop = (
        "mlp", 2, "sigmoid", 128, 2, 2,
    )  # fmt: skip
    family = make(model, Setup((32, 32, 1), optax.adam(2e-4, b1=0.5)))
    params, state = init_networks(family, jax.random.key(0))
    opt_state = family.optimizers["enc"].init(params)
    images = jnp.asarray(synthetic_arrays()["train_images"][:64], jnp.float32)[..., None] / 255.0
    images = jnp.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))

    @jax.jit
    def step(params, opt_state, key):
        grads = jax.grad(lambda p: family.updates[0].loss(p, state, {"image": images}, key)[0])(params)
        updates, opt_state = family.optimizers["enc"].update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    for i in range(200):
        params, opt_state = step(params, opt_state, jax.random.key(i))
    codes = np.asarray(family.can.encode(params, state, images))
    saturated = np.mean((codes > 0.99) | (codes < 0.01))
    assert (saturated < 0.5) == dark_start, saturated


def test_denoising_test_score_restores_corrupted_images_independently_of_the_chunking():
    from jaxgen import runtime

    family, params, state = family_and_params(arch="mlp", hidden=16, crop=2, input_dropout=0.5)
    ts = {"params": params, "state": state}
    images = (jax.random.uniform(jax.random.key(3), (8, 32, 32, 1)) * 255).astype(jnp.uint8)
    data = {"test_images": images, "test_labels": jnp.zeros(8, jnp.int32)}
    by_2 = runtime.evaluate_split(family, ts, data, chunk=2)
    by_8 = runtime.evaluate_split(family, ts, data, chunk=8)
    assert set(by_2) == {"mse", "bce", "denoise_mse"}
    assert float(by_2["denoise_mse"]) == pytest.approx(float(by_8["denoise_mse"]), rel=1e-6)
    assert float(by_2["denoise_mse"]) != pytest.approx(float(by_2["mse"]), rel=1e-3)
    plain = family_and_params(arch="mlp", hidden=16, crop=2)[0]
    assert "denoise_mse" not in runtime.evaluate_split(plain, ts, data, chunk=8)


def test_pixels_cut_the_border_and_score_outputs_by_hand():
    pixels = autoencoder.Pixels((4, 4, 1), crop=1, kind="mse")
    images = jnp.arange(32, dtype=jnp.float32).reshape(2, 4, 4, 1) / 32.0
    flat = pixels.flat(images)
    np.testing.assert_array_equal(flat[0], np.asarray(images)[0, 1:3, 1:3, 0].ravel())
    assert pixels.count == 4
    logits = jnp.zeros((2, 4))  # sigmoid 0.5 everywhere
    np.testing.assert_allclose(
        pixels.error(logits, images), np.mean((0.5 - np.asarray(flat)) ** 2, axis=1), 1e-6
    )
    drawn = np.asarray(pixels.image(logits))
    assert drawn.shape == (2, 4, 4, 1) and drawn[:, 1:3, 1:3].min() == 0.5 and not drawn[:, 0].any()
    linear = autoencoder.Pixels((4, 4, 1), crop=1, kind="mse", linear=True)
    np.testing.assert_array_equal(linear.values(flat), flat)  # a linear decoder's outputs are its pixels
    bce = autoencoder.Pixels((4, 4, 1), crop=1, kind="bce")
    expected = np.mean(np.log(2.0) * np.ones((2, 4)), axis=1)  # BCE of logit 0 is log 2 whatever the target
    np.testing.assert_allclose(bce.error(logits, images), expected, rtol=1e-6)


def test_reconstruction_scores_by_hand():
    target = jnp.asarray([[0.0, 1.0]])
    scores = autoencoder.reconstruction_scores(jnp.asarray([[0.5, 0.5]]), jnp.asarray([[0.0, 0.0]]), target)
    assert float(scores["mse"][0]) == pytest.approx(0.25)
    assert float(scores["bce"][0]) == pytest.approx(np.log(2.0), rel=1e-6)
