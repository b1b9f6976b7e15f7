"""EBGAN and BEGAN: autoencoder discriminators (not copies of the plain GAN), their losses as the papers
write them, BEGAN's k_t carried in the train state and logged with M_global."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import synthetic_dataset, tiny_config

from jaxgen import config as config_lib
from jaxgen import layers, losses, runtime
from jaxgen import train as train_lib
from jaxgen.models import priors


def family_state(name, **model):
    config = tiny_config(name)
    for key, value in model.items():
        setattr(config.model, key, value)
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    return family, ts["params"], ts["state"]


def a_batch():
    return {"image": jax.random.uniform(jax.random.key(4), (6, 32, 32, 1)), "label": jnp.zeros(6, jnp.int32)}


def update(family, name):
    return next(u for u in family.updates if u.name == name)


@pytest.mark.parametrize("name", ["ebgan", "began"])
def test_the_discriminator_is_an_autoencoder(name):
    family, params, state = family_state(name)
    images = jax.random.uniform(jax.random.key(1), (3, 32, 32, 1))
    recon, codes = family.networks["disc"].apply(
        {"params": params["disc"], **state["disc"]}, images, train=False
    )
    assert recon.shape == images.shape and codes.shape == (3, 64)


def test_began_paper_networks_follow_the_papers_figure():
    """Fig. 1 of the paper at 32x32 with n = 4: 3x3 convs only, widths n, 2n, 3n down to 8x8, an 8x8 map
    of n channels decoded by two convs per scale with nearest-neighbour up-sampling, linear outputs."""
    family, params, _ = family_state("began")
    disc, gen = params["disc"], params["gen"]
    encoder = disc["PaperEncoder_0"]
    kernels = [encoder[f"Conv_{i}"]["kernel"].shape for i in range(len(encoder) - 1)]
    assert kernels == [
        (3, 3, 1, 4),
        (3, 3, 4, 4), (3, 3, 4, 4), (3, 3, 4, 8),  # 32x32, then sub-sample by a stride-2 conv
        (3, 3, 8, 8), (3, 3, 8, 8), (3, 3, 8, 12),  # 16x16
        (3, 3, 12, 12), (3, 3, 12, 12),  # 8x8
    ]  # fmt: skip
    assert encoder["Dense_0"]["kernel"].shape == (8 * 8 * 12, 64)
    for decoder in (disc["PaperDecoder_0"], gen):
        assert decoder["Dense_0"]["kernel"].shape[1] == 8 * 8 * 4
        assert [decoder[f"Conv_{i}"]["kernel"].shape for i in range(7)] == [(3, 3, 4, 4)] * 6 + [(3, 3, 4, 1)]
    assert gen["Dense_0"]["kernel"].shape[0] == 8  # z
    # a linear generator can leave [-1, 1]; samples are clipped to [0, 1]
    images = family.can.sample(params, {}, jax.random.key(3), 4)["images"]
    assert images.shape == (4, 32, 32, 1) and float(images.min()) >= 0.0 and float(images.max()) <= 1.0


def test_began_skip_connections_concatenate_the_up_sampled_8x8_map_at_every_later_scale():
    """model.began_skip (the paper's skip connections): after each up-sampling the decoder's first conv
    reads 2n channels, its own n and h0's n; up-sampling repeats each pixel."""
    family, params, _ = family_state("began", began_skip=True)
    for decoder in (params["disc"]["PaperDecoder_0"], params["gen"]):
        shapes = [decoder[f"Conv_{i}"]["kernel"].shape for i in range(7)]
        assert shapes == [(3, 3, 4, 4), (3, 3, 4, 4)] + [(3, 3, 8, 4), (3, 3, 4, 4)] * 2 + [(3, 3, 4, 1)]
    x = jnp.arange(2 * 8 * 8 * 3, dtype=jnp.float32).reshape(2, 8, 8, 3)
    up = layers.upsample_nearest(x, 4)
    assert up.shape == (2, 32, 32, 3) and bool((up[:, 4:8, 8:12] == x[:, 1:2, 2:3]).all())
    # the generator's output depends on z through the skips alone once the 8x8 scale's convs are zeroed
    outputs = {}
    for skip in (True, False):
        family, params, _ = family_state("began", began_skip=skip)
        gen = params["gen"]
        cut = {**gen, **{f"Conv_{i}": jax.tree.map(jnp.zeros_like, gen[f"Conv_{i}"]) for i in (0, 1)}}
        z = jax.random.uniform(jax.random.key(2), (3, 8), minval=-1.0, maxval=1.0)
        outputs[skip] = family.networks["gen"].apply({"params": cut}, z)
    assert float(jnp.std(outputs[True][0] - outputs[True][1])) > 0  # z still reaches the image
    assert float(jnp.abs(outputs[False][0] - outputs[False][1]).max()) == 0  # the plain decoder lost z
    config = tiny_config("began")
    config.model.arch, config.model.began_skip = "small", True
    with pytest.raises(config_lib.ConfigError, match="model.began_skip=True needs model.arch='paper'"):
        config_lib.validate(config)


def test_began_small_networks_are_the_playgrounds_one_conv_autoencoder_and_infogan_generator():
    """model.arch=small: D is conv 64 k4 s2 + ReLU, a linear code of disc_code_dim, a linear layer back to
    the 16x16x64 map, a transposed conv out; G is the InfoGAN paper's generator (FC 1024 first)."""
    family, params, state = family_state("began", arch="small", disc_code_dim=32)
    disc = params["disc"]
    assert disc["Conv_0"]["kernel"].shape == (4, 4, 1, 64)
    assert disc["Dense_0"]["kernel"].shape == (16 * 16 * 64, 32)
    assert disc["Dense_1"]["kernel"].shape == (32, 16 * 16 * 64)
    assert disc["Conv_1"]["kernel"].shape == (4, 4, 64, 1)
    assert params["gen"]["Dense_0"]["kernel"].shape == (8, 1024)  # z of the tiny config's 8
    images = jax.random.uniform(jax.random.key(1), (3, 32, 32, 1))
    recon, codes = family.networks["disc"].apply({"params": disc}, images, train=False)
    assert recon.shape == images.shape and codes.shape == (3, 32)
    out = family.can.sample(params, state, jax.random.key(3), 4)["images"]
    assert out.shape == (4, 32, 32, 1)


def test_began_has_no_batch_norm_and_k_starts_at_zero():
    _, _, state = family_state("began")
    assert state["disc"] == {} and float(state["extras"]["k"]) == 0.0


def test_began_k_can_start_above_zero_but_not_above_one():
    _, _, state = family_state("began", began_k0=0.25)
    assert float(state["extras"]["k"]) == 0.25
    config = tiny_config("began")
    config.model.began_k0 = 1.5
    with pytest.raises(config_lib.ConfigError, match="model.began_k0 must be at most 1"):
        config_lib.validate(config)


def test_began_discriminator_loss_is_real_minus_k_fake_and_updates_k():
    family, params, state = family_state("began", began_gamma=0.7, began_lambda_k=0.05)
    state = {**state, "extras": {"k": jnp.asarray(0.3)}}
    loss, (metrics, new_state) = update(family, "disc").loss(params, state, a_batch(), jax.random.key(2))
    real, fake = float(metrics["real_l1"]), float(metrics["fake_l1"])
    assert float(loss) == pytest.approx(real - 0.3 * fake, rel=1e-5)
    k, m = losses.began_k_update(jnp.asarray(0.3), real, fake, 0.7, 0.05)
    assert float(new_state["extras"]["k"]) == pytest.approx(float(k), rel=1e-5)
    assert float(metrics["M_global"]) == pytest.approx(float(m), rel=1e-5)
    # the generator minimises the discriminator's reconstruction error of its images
    gen_loss, _ = update(family, "gen").loss(params, state, a_batch(), jax.random.key(2))
    assert float(gen_loss) == pytest.approx(fake, rel=1e-5)  # same key: the same fakes


@pytest.mark.parametrize("noise", ["uniform", "normal"])
def test_began_generator_draws_the_papers_uniform_noise_or_normal(noise):
    assert tiny_config("began").model.noise == "uniform"  # the paper's z in [-1, 1]
    family, params, state = family_state("began", noise=noise)
    key = jax.random.key(5)
    images = family.can.sample(params, state, key, 4)["images"]
    z = priors.NOISES[noise](key, 4, 8)
    assert (float(z.min()) >= -1.0 and float(z.max()) <= 1.0) == (noise == "uniform")
    by_hand = family.networks["gen"].apply({"params": params["gen"]}, z)
    expected = jnp.clip((by_hand + 1.0) / 2.0, 0.0, 1.0)
    np.testing.assert_allclose(images, expected, atol=1e-6)


def test_began_k_is_trained_checkpointed_and_logged(tmp_path):
    config = tiny_config("began", num_steps=3)
    config.model.began_lambda_k = 0.5  # large enough to move k visibly in 3 steps
    ts = train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all({"disc/k", "disc/M_global"} <= r.keys() for r in records if r["kind"] == "train")
    k = float(ts["state"]["extras"]["k"])
    assert 0.0 <= k <= 1.0 and k != records[0]["disc/k"]
    _, restored = runtime.restore_model(config, tmp_path)
    assert float(restored["state"]["extras"]["k"]) == k


def test_ebgan_margin_loss_and_pulling_away_term():
    family, params, state = family_state("ebgan", ebgan_margin=1e6)
    loss, (metrics, _) = update(family, "disc").loss(params, state, a_batch(), jax.random.key(2))
    # with an unreachable margin the hinge is active for every fake: loss = E(x) + m - E(G(z))
    expected = float(metrics["real_energy"]) + 1e6 - float(metrics["fake_energy"])
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    family, params, state = family_state("ebgan", ebgan_margin=0.0)
    loss, (metrics, _) = update(family, "disc").loss(params, state, a_batch(), jax.random.key(2))
    assert float(loss) == pytest.approx(float(metrics["real_energy"]), rel=1e-6)

    def gen_loss(weight):
        fam, p, s = family_state("ebgan", pt_weight=weight)
        value, (m, _) = update(fam, "gen").loss(p, s, a_batch(), jax.random.key(3))
        return float(value), float(m["pulling_away"])

    without, pt = gen_loss(0.0)
    with_pt, _ = gen_loss(2.0)
    assert 0.0 < pt <= 1.0 and with_pt == pytest.approx(without + 2.0 * pt, rel=1e-5)
