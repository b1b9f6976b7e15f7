"""Registry-wide: every model inits, runs two jitted steps, updates its networks, and samples sensibly."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import CONFIG_FILES, load_config_file, synthetic_dataset, tiny_config
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgen import train as train_lib
from jaxgen.models import REGISTRY

# The critic's output bias cancels in f(G(z)) - f(x): its gradient is exactly zero, so it must not move.
FROZEN_BY_MATH = {("wgan", "disc"): {"['Dense_0']['bias']"}, ("wgan_gp", "disc"): {"['Dense_0']['bias']"}}


def shrunk(config):
    """A config file's model at toy size: same architecture, regularisers and objective, tiny widths."""
    config.model.width = min(config.model.width, 4)
    config.model.hidden = min(config.model.hidden, 16)
    config.model.iwae_k = min(config.model.iwae_k, 2)
    config.train.batch_size = 8
    config.train.num_grid_images = 4
    return config


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_two_jitted_steps(name):
    check_two_jitted_steps(name, tiny_config(name))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_every_config_file_trains_two_jitted_steps_at_toy_size(path):
    config = shrunk(load_config_file(path))
    check_two_jitted_steps(config.model.name, config)


def check_two_jitted_steps(name, config):
    dataset = synthetic_dataset()
    family = train_lib.build_family(config, dataset.image_shape)
    keys = train_lib.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    ts = jax.device_put(train_lib.init_state(family, keys.init), NamedSharding(mesh, P()))
    before = jax.tree.map(np.array, ts["params"])
    multi_step = train_lib.make_multi_step(family, 8, mesh)
    data = {"images": jnp.asarray(dataset.train_images), "labels": jnp.asarray(dataset.train_labels)}
    n = len(dataset.train_images)
    labelled = jnp.arange(0, n, 4, dtype=jnp.int32) if family.semi_supervised else None
    plan = train_lib.batch_plan(keys.data, 0, n, labelled)
    for _ in range(2):
        ts, metrics = multi_step(ts, data, plan, 0, keys.train, 1)
        for metric, value in metrics.items():
            assert np.isfinite(np.asarray(value)).all(), metric
    assert multi_step._cache_size() == 1  # the second call did not retrace
    assert int(ts["step"]) == 2
    updated = {net for update in family.updates for net in update.networks}
    assert updated == set(family.networks)
    for net in updated:
        changed = jax.tree.map(
            lambda a, b: not np.array_equal(a, np.asarray(b)), before[net], ts["params"][net]
        )
        unchanged = {
            jax.tree_util.keystr(p) for p, c in jax.tree_util.tree_leaves_with_path(changed) if not c
        }
        assert unchanged == FROZEN_BY_MATH.get((name, net), set()), f"{name}: params of {net} did not change"
    if family.sample is not None:
        images = family.sample(ts["params"], ts["state"], jax.random.key(1), 5)["images"]
        assert images.shape == (5, 32, 32, 1)
        assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    if family.reconstruct is not None:
        recon = family.reconstruct(ts["params"], ts["state"], jnp.zeros((3, 32, 32, 1)))
        assert recon.shape == (3, 32, 32, 1) and float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
    if family.encode is not None:
        images = jax.random.uniform(jax.random.key(2), (3, 32, 32, 1))
        codes = family.encode(ts["params"], ts["state"], images)
        assert codes.ndim == 2 and codes.shape[0] == 3 and np.all(np.isfinite(codes))
        assert not np.allclose(codes[0], codes[1])  # codes depend on the image


def test_wgan_critic_weights_stay_clipped(tmp_path):
    config = tiny_config("wgan")
    config.model.clip_value = 0.003
    config.model.disc_batch_norm = False  # as configs/wgan.py
    config.optim.name, config.optim.lr = "rmsprop", 1e-2
    dataset = synthetic_dataset()
    ts = train_lib.train(config, tmp_path, dataset=dataset)
    leaves = jax.tree.leaves(ts["params"]["disc"])
    assert max(float(jnp.abs(x).max()) for x in leaves) <= 0.003 + 1e-7
    assert max(float(jnp.abs(x).max()) for x in jax.tree.leaves(ts["params"]["gen"])) > 0.003  # gen unclipped


def test_bfloat16_compute_trains_with_float32_state(tmp_path):
    config = tiny_config("gan", num_steps=2)
    config.model.compute_dtype = "bfloat16"
    ts = train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    leaves = jax.tree.leaves((ts["params"], ts["opt_state"], ts["state"]))
    assert all(x.dtype in (jnp.float32, jnp.int32) for x in leaves)
    records = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(records) == 2 and "nan" not in records[-1].lower()


def test_wgan_gp_critic_has_no_batch_norm_and_its_loss_adds_the_weighted_penalty():
    from jaxgen import losses
    from jaxgen.data import to_signed
    from jaxgen.models import apply_net

    config = tiny_config("wgan_gp")
    assert config.model.disc_batch_norm  # asked for BatchNorm: the family still builds the critic without
    family = train_lib.build_family(config, (32, 32, 1))
    ts = train_lib.init_state(family, jax.random.key(0))
    params, state = ts["params"], ts["state"]
    assert state["disc"] == {}  # no batch_stats collection
    batch = {"image": jax.random.uniform(jax.random.key(1), (4, 32, 32, 1))}
    key = jax.random.key(2)
    loss, (metrics, _) = family.updates[0].loss(params, state, batch, key)
    gen_key, penalty_key = jax.random.split(key)
    fake, _ = apply_net(
        family.networks["gen"], "gen", params, state, jax.random.normal(gen_key, (4, 8)), train=True
    )
    real = to_signed(batch["image"])

    def critic(x):
        return apply_net(family.networks["disc"], "disc", params, state, x, train=True)[0]

    expected = losses.wasserstein_critic_loss(critic(real), critic(fake)) + 10.0 * losses.gradient_penalty(
        critic, real, fake, penalty_key
    )
    assert float(loss) == pytest.approx(float(expected.mean()), rel=1e-5)
    assert float(metrics["gradient_penalty"]) > 0.0
