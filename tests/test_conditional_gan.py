"""Conditional GAN, ACGAN, InfoGAN: labels reach both networks; MI trains the generator and Q only."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from jaxgen import runtime


def family_state(name):
    family = runtime.build_family(tiny_config(name))
    ts = runtime.init_state(family, jax.random.key(0))
    return family, ts["params"], ts["state"]


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


def test_infogan_mutual_information_trains_generator_and_q_not_the_discriminator():
    family, params, state = family_state("infogan")
    updates = {u.name: u.networks for u in family.updates}
    assert updates == {"disc": ("disc",), "gen_q": ("gen", "q")}
    batch = {"image": jax.random.uniform(jax.random.key(4), (4, 32, 32, 1)), "label": jnp.zeros(4, jnp.int32)}
    gen_q = next(u for u in family.updates if u.name == "gen_q")

    def mi_only(p):
        return gen_q.loss(p, state, batch, jax.random.key(5))[1][0]["mi_loss"]

    grads = jax.grad(mi_only)(params)
    norm = {net: float(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads[net]))) for net in grads}
    assert norm["q"] > 0.0 and norm["gen"] > 0.0
    # the MI loss does depend on the discriminator's body, but the update never differentiates it
    assert "disc" not in gen_q.networks
    codes = family.can.encode(params, state, batch["image"])
    assert codes.shape == (4, 12)
    np.testing.assert_allclose(np.asarray(codes[:, :10]).sum(1), 1.0, rtol=1e-5)  # category probabilities


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
