"""Conditional GAN, ACGAN, InfoGAN: labels reach both networks; MI trains the generator, the discriminator's
body and Q."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from jaxgen import runtime
from jaxgen.models import priors


def family_state_of(config):
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    return family, ts["params"], ts["state"]


def family_state(name):
    return family_state_of(tiny_config(name))


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_conditional_samples_carry_balanced_labels_that_change_the_images(name):
    family, params, state = family_state(name)
    out = family.can.sample(params, state, jax.random.key(1), 20)
    assert np.array_equal(np.bincount(np.asarray(out["labels"]), minlength=10), np.full(10, 2))
    # the same noise with another label gives another image: the generator reads the label
    gen = family.networks["gen"]
    z = jax.random.normal(jax.random.key(2), (1, 8))
    images = [
        gen.apply(
            {"params": params["gen"], **state["gen"]},
            jnp.concatenate([z, jax.nn.one_hot(jnp.array([d]), 10)], -1),
            train=False,
        )
        for d in (3, 7)
    ]
    assert not np.allclose(images[0], images[1])


def test_cgan_discriminator_reads_the_label():
    family, params, state = family_state("cgan")
    disc = family.networks["disc"]
    x = jax.random.uniform(jax.random.key(3), (2, 32, 32, 1))
    variables = {"params": params["disc"], **state["disc"]}
    a = disc.apply(variables, x, jax.nn.one_hot(jnp.array([1, 1]), 10), train=False)
    b = disc.apply(variables, x, jax.nn.one_hot(jnp.array([2, 2]), 10), train=False)
    assert not np.allclose(a, b)


@pytest.mark.parametrize(
    "arch,body,head", [("dcgan", "['disc']['DownStack_0']", "['disc']['Dense_0']"),
                       ("paper", "['disc']['Conv_0']", "['disc']['Dense_1']")],
)  # fmt: skip
def test_infogan_mutual_information_trains_the_generator_and_the_discriminator_body_with_q(arch, body, head):
    """As the paper's reference code: L_I is minimised by G, and on the discriminator's side by the shared
    body and the Q head; the real/fake head gets no L_I gradient (the DCGAN stacks and the paper's nets)."""
    config = tiny_config("infogan")
    config.model.arch = arch
    family, params, state = family_state_of(config)
    updates = {u.name: u for u in family.updates}
    assert {name: u.networks for name, u in updates.items()} == {"disc": ("disc", "q"), "gen": ("gen",)}
    batch = {"image": jax.random.uniform(jax.random.key(4), (4, 32, 32, 1)), "label": jnp.zeros(4, jnp.int32)}

    def mi_gradient_norms(update):
        def mi_only(p):
            return update.loss(p, state, batch, jax.random.key(5))[1][0]["mi_loss"]

        grads = jax.grad(mi_only)(params)
        return {
            jax.tree_util.keystr(path[:2]): float(jnp.sum(jnp.square(g)))
            for path, g in jax.tree_util.tree_leaves_with_path(grads)
        }

    def total(norms, prefix):
        return sum(v for k, v in norms.items() if k.startswith(prefix))

    disc_side = mi_gradient_norms(updates["disc"])
    assert total(disc_side, body) > 0.0  # the shared body
    assert total(disc_side, "['q']") > 0.0  # the Q head
    assert total(disc_side, head) == 0.0  # the real/fake head
    assert total(disc_side, "['gen']") == 0.0  # the fakes are detached on the discriminator's side
    gen_side = mi_gradient_norms(updates["gen"])
    assert total(gen_side, "['gen']") > 0.0
    codes = family.can.encode(params, state, batch["image"])
    assert codes.shape == (4, 12)
    np.testing.assert_allclose(np.asarray(codes[:, :10]).sum(1), 1.0, rtol=1e-5)  # category probabilities


@pytest.mark.parametrize("weight", [0.0, 0.1])
def test_infogan_continuous_weight_scales_only_the_continuous_codes_term(weight):
    """model.info_continuous_weight scales the gradient Q's continuous outputs get from L_I (0: none) and
    leaves the category outputs' gradient as it is."""
    batch = {"image": jax.random.uniform(jax.random.key(4), (4, 32, 32, 1)), "label": jnp.zeros(4, jnp.int32)}

    def q_output_gradient(continuous_weight):
        config = tiny_config("infogan")
        config.model.info_continuous_weight = continuous_weight
        family, params, state = family_state_of(config)
        update = {u.name: u for u in family.updates}["disc"]
        grads = jax.grad(lambda p: update.loss(p, state, batch, jax.random.key(5))[1][0]["mi_loss"])(params)
        kernel = np.asarray(grads["q"]["Dense_1"]["kernel"])  # Q's output layer: 10 logits, then the means
        return kernel[:, :10], kernel[:, 10:]

    category_full, continuous_full = q_output_gradient(1.0)
    category, continuous = q_output_gradient(weight)
    assert np.abs(continuous_full).max() > 0.0
    np.testing.assert_allclose(continuous, weight * continuous_full, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(category, category_full, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("noise", ["uniform", "normal"])
def test_infogan_samples_carry_the_codes_that_drew_them(noise):
    config = tiny_config("infogan")
    config.model.noise = noise
    family, params, state = family_state_of(config)
    out = family.can.sample(params, state, jax.random.key(3), 6)
    assert out["categories"].shape == (6,) and out["continuous"].shape == (6, 2)
    assert float(jnp.abs(out["continuous"]).max()) <= 1.0
    # the same codes through the generator give the same images; the noise is the reference code's
    # uniform(-1, 1) by default
    assert tiny_config("infogan").model.noise == "uniform"
    noise_key = jax.random.split(jax.random.key(3), 3)[2]
    shape = (6, config.model.latent_dim)
    if noise == "uniform":
        z = jax.random.uniform(noise_key, shape, minval=-1.0, maxval=1.0)
    else:
        z = jax.random.normal(noise_key, shape)
    codes = jnp.concatenate([z, jax.nn.one_hot(out["categories"], 10), out["continuous"]], -1)
    images = family.networks["gen"].apply({"params": params["gen"], **state["gen"]}, codes, train=False)
    np.testing.assert_allclose(out["images"], (images + 1.0) / 2.0, atol=1e-6)
    # the sweep pictures draw the same noise as training (they drew N(0, I) whatever model.noise said)
    table = family.pictures.sweeps(params, state, jax.random.key(4), 2)["category"]
    z = jnp.tile(priors.NOISES[noise](jax.random.split(jax.random.key(4))[0], 2, shape[1]), (10, 1))
    codes = jnp.concatenate([z, jax.nn.one_hot(jnp.repeat(jnp.arange(10), 2), 10), jnp.zeros((20, 2))], -1)
    images = family.networks["gen"].apply({"params": params["gen"], **state["gen"]}, codes, train=False)
    np.testing.assert_allclose(table.reshape(20, 32, 32, 1), (images + 1.0) / 2.0, atol=1e-6)


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_digit_sweep_rows_are_digits_and_columns_share_noise(name):
    family, params, state = family_state(name)
    tables = family.pictures.sweeps(params, state, jax.random.key(6), 3)
    assert list(tables) == ["digits"]
    table = np.asarray(tables["digits"])
    assert table.shape == (10, 3, 32, 32, 1) and 0.0 <= table.min() and table.max() <= 1.0
    assert not np.allclose(table[0, 0], table[1, 0])  # another digit, the same noise
    assert not np.allclose(table[0, 0], table[0, 1])  # another noise, the same digit
    # row d, column j is G(z_j, d): compare with the generator called directly
    z = jax.random.normal(jax.random.key(6), (3, 8))
    direct = family.networks["gen"].apply(
        {"params": params["gen"], **state["gen"]},
        jnp.concatenate([z[1:2], jax.nn.one_hot(jnp.array([4]), 10)], -1),
        train=False,
    )
    np.testing.assert_allclose(table[4, 1], (np.asarray(direct[0]) + 1) / 2, atol=1e-5)


def test_infogan_sweeps_and_clusters():
    family, params, state = family_state("infogan")
    tables = {
        k: np.asarray(v) for k, v in family.pictures.sweeps(params, state, jax.random.key(7), 4).items()
    }
    assert sorted(tables) == ["category", "continuous_1", "continuous_2"]
    assert all(t.shape == (10, 4, 32, 32, 1) for t in tables.values())
    # a continuous sweep moves one code along a row: columns differ, the first column of both sweeps
    # (value -2 of code 1 vs of code 2) differ too
    assert not np.allclose(tables["continuous_1"][0, 0], tables["continuous_1"][0, -1])
    assert not np.allclose(tables["continuous_1"][0, 0], tables["continuous_2"][0, 0])
    images = jax.random.uniform(jax.random.key(8), (5, 32, 32, 1))
    clusters = np.asarray(family.can.cluster(params, state, images))
    probs = np.asarray(family.can.encode(params, state, images))[:, :10]
    assert clusters.dtype.kind == "i" and np.array_equal(clusters, probs.argmax(1))


def test_infogan_paper_networks_draw_images_and_feed_q_the_1024_body():
    config = tiny_config("infogan")
    config.model.arch = "paper"
    family, params, state = family_state_of(config)
    out = family.can.sample(params, state, jax.random.key(6), 3)
    assert out["images"].shape == (3, 32, 32, 1)
    assert float(out["images"].min()) >= 0.0 and float(out["images"].max()) <= 1.0
    assert params["q"]["Dense_0"]["kernel"].shape[0] == 1024
    assert params["gen"]["Dense_0"]["kernel"].shape == (config.model.latent_dim + 10 + 2, 1024)


def test_infogan_paper_networks_work_at_mnists_own_28_pixels():
    config = tiny_config("infogan")
    config.model.arch, config.data.image_size = "paper", 28
    family, params, state = family_state_of(config)
    images = family.can.sample(params, state, jax.random.key(6), 3)["images"]
    assert images.shape == (3, 28, 28, 1)
    assert family.can.cluster(params, state, images).shape == (3,)
    assert params["disc"]["Dense_0"]["kernel"].shape[0] == 7 * 7 * 128


def test_infogan_leaky_slopes_reach_every_layer_of_the_paper_body_and_q():
    """With both slopes 1 every leaky ReLU is the identity, so (in evaluation mode, BatchNorm affine) the
    body and Q are affine maps: a layer left at another slope would bend them."""
    config = tiny_config("infogan")
    config.model.arch = "paper"
    config.model.disc_leaky_slope = config.model.q_leaky_slope = 1.0
    family, params, state = family_state_of(config)
    disc, q = family.networks["disc"], family.networks["q"]

    def body_and_q(x):
        _, _, body = disc.apply({"params": params["disc"], **state["disc"]}, x, train=False)
        cat_logits, _ = q.apply({"params": params["q"], **state["q"]}, body, train=False)
        return body, cat_logits

    a, b = jax.random.normal(jax.random.key(1), (2, 4, 32, 32, 1))
    outputs = [body_and_q(x) for x in (0.3 * a + 0.7 * b, a, b)]
    for mixed, end_a, end_b in zip(*outputs, strict=True):  # the body, then Q's logits
        np.testing.assert_allclose(mixed, 0.3 * end_a + 0.7 * end_b, rtol=1e-3, atol=1e-4)
    config.model.disc_leaky_slope = 0.01  # the reference code's slope: no longer affine
    family, params, state = family_state_of(config)
    disc = family.networks["disc"]
    mixed, ends = body_and_q(0.3 * a + 0.7 * b)[0], [body_and_q(x)[0] for x in (a, b)]
    assert not np.allclose(mixed, 0.3 * ends[0] + 0.7 * ends[1], rtol=1e-3, atol=1e-4)


def test_infogan_q_init_sets_the_scale_of_both_q_layers_and_leaves_the_rest():
    """lecun (the default): std 1 / sqrt(fan in) per layer; dcgan (the reference code's): N(0, 0.02)."""
    config = tiny_config("infogan")
    config.model.arch = "paper"
    _, lecun, _ = family_state_of(config)
    config.model.q_init = "dcgan"
    _, dcgan, _ = family_state_of(config)
    for layer, fan_in in (("Dense_0", 1024), ("Dense_1", 128)):
        assert np.std(lecun["q"][layer]["kernel"]) == pytest.approx(fan_in**-0.5, rel=0.1)
        assert np.std(dcgan["q"][layer]["kernel"]) == pytest.approx(0.02, rel=0.1)
    same = jax.tree.map(
        np.array_equal, {k: lecun[k] for k in ("gen", "disc")}, {k: dcgan[k] for k in ("gen", "disc")}
    )
    assert all(jax.tree.leaves(same))
