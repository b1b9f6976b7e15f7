"""Registry-wide: every model inits, runs two jitted steps, updates its networks, and samples sensibly."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import CONFIG_FILES, REPO, load_config_file, synthetic_dataset, tiny_config
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgen import runtime
from jaxgen import step as step_lib
from jaxgen import train as train_lib
from jaxgen.config import base_config
from jaxgen.data import feeds, in_domain
from jaxgen.models import REGISTRY, Abilities, Family, ModelSpec, Update, apply_net, register

# The critic's output bias cancels in f(G(z)) - f(x): its gradient is exactly zero, so it must not move
# (WGAN-GP's; WGAN's critic, the reference code's, has no biases).
FROZEN_BY_MATH = {("wgan_gp", "disc"): {"['Dense_0']['bias']"}}


def shrunk(config):
    """A config file's model at toy size: same architecture, regularisers and objective, tiny widths."""
    for field, most in (("width", 4), ("hidden", 16), ("iwae_k", 2)):
        if field in config.model:
            setattr(config.model, field, min(config.model[field], most))
    config.train.batch_size = 8
    config.train.num_grid_images = 4
    if config.data.name in ("celeba", "image_folder"):  # 64x64x3 photos: tests/test_image_folder.py
        config.data.name, config.data.image_size, config.data.channels = "mnist", 32, 1
    return config


def program_key(config) -> str:
    """The options a compiled step depends on: the config less its seed, schedule length and evaluation."""
    options = config.to_dict()
    options.pop("seed")
    options.pop("eval")
    for field in ("num_steps", "checkpoint_every", "log_every", "eval_every"):
        options["train"].pop(field)
    return json.dumps(options, sort_keys=True, default=str)


BUILT_IN_FAMILIES = sorted(REGISTRY)  # before any test registers its own
CONFIG_FILE_PROGRAMS = {program_key(shrunk(load_config_file(path))) for path in CONFIG_FILES}


def test_every_built_in_family_has_a_config_file():
    assert {load_config_file(path).model.name for path in CONFIG_FILES} == set(BUILT_IN_FAMILIES)


@pytest.mark.parametrize(
    "name",
    [n for n in BUILT_IN_FAMILIES if program_key(shrunk(base_config(n))) not in CONFIG_FILE_PROGRAMS],
)
def test_two_jitted_steps_at_defaults_no_config_file_has(name):
    """A family's defaults at toy size, where no config file already runs them (for most families one
    does, and the config-file test below is the same program)."""
    check_two_jitted_steps(name, shrunk(base_config(name)))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_every_config_file_trains_two_jitted_steps_at_toy_size(path):
    config = shrunk(load_config_file(path))
    check_two_jitted_steps(config.model.name, config)


def test_training_step_keeps_no_copies_of_adams_state_and_computes_the_same_bits(monkeypatch):
    """step.step_compiler_options: with region analysis in copy insertion the AAE's compiled 3-step call
    copies no parameter-sized array (with XLA_FLAGS turning it off, 10), and trains to the same bits."""
    config = tiny_config("aae")
    config.model.hidden = 64
    family = runtime.build_family(config)
    keys, mesh, ts, data, plan = one_device_start(family, synthetic_dataset())
    shapes = {"[" + ",".join(map(str, x.shape)) + "]" for x in jax.tree.leaves(ts["params"]) if x.ndim == 2}

    def trained(xla_flags: str):
        monkeypatch.setenv("XLA_FLAGS", xla_flags)
        multi_step = step_lib.make_multi_step(family, 8, mesh)
        text = multi_step.lower(ts, data, plan, 0, keys.train, 3).compile().as_text()
        copies = sum(" copy(" in line and any(s in line for s in shapes) for line in text.splitlines())
        state, _ = multi_step(jax.tree.map(jnp.copy, ts), data, plan, 0, keys.train, 3)
        return copies, jax.tree.map(np.asarray, state)

    copies_on, state_on = trained("")
    copies_off, state_off = trained("--xla_cpu_copy_insertion_use_region_analysis=false")
    assert copies_on == 0 < copies_off
    jax.tree.map(np.testing.assert_array_equal, state_on, state_off)


def one_device_start(family, dataset, data_config=None):
    """(keys, mesh, initial state, device data, batch plan) of a seed-0 run of `family` on one device; a
    labelled subset is every fourth image; data_config: the data fields that add arrays (data.match_b)."""
    keys = runtime.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    ts = jax.device_put(runtime.init_state(family, keys.init), NamedSharding(mesh, P()))
    data = jax.tree.map(jnp.asarray, feeds.device_arrays(family.data, dataset, data=data_config))
    n = len(data["images"])
    labelled = jnp.arange(0, n, 4, dtype=jnp.int32) if family.data == "labelled_subset" else None
    return keys, mesh, ts, data, feeds.batch_plan(keys.data, 0, n, labelled)


def check_two_jitted_steps(name, config):
    dataset = in_domain(synthetic_dataset(), config.data.domain_a)  # e.g. the distorted MNISTs
    redraw = config.data.domain_a if config.data.redraw_domain_a else ""
    if redraw:  # the trainer's fresh distortions of the untransformed training images
        dataset = dataclasses.replace(dataset, train_originals=synthetic_dataset().train_images)
    family = runtime.build_family(config)
    if family.data in feeds.TWO_DOMAINS:  # the same images in the config's second domain
        dataset = dataclasses.replace(dataset, second=in_domain(dataset, config.data.domain_b))
    keys, mesh, ts, data, plan = one_device_start(family, dataset, config.data)
    before = jax.tree.map(np.array, ts["params"])
    multi_step = step_lib.make_multi_step(family, 8, mesh, slots=1, redraw=redraw)
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
    if family.can.sample is not None:
        images = family.can.sample(ts["params"], ts["state"], jax.random.key(1), 5)["images"]
        assert images.shape == (5, 32, 32, 1)
        assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    if family.can.reconstruct is not None:
        recon = family.can.reconstruct(ts["params"], ts["state"], jnp.zeros((3, 32, 32, 1)))
        assert recon.shape == (3, 32, 32, 1) and float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
    if family.can.encode is not None:
        images = jax.random.uniform(jax.random.key(2), (3, *dataset.image_shape))
        codes = family.can.encode(ts["params"], ts["state"], images)
        assert codes.ndim == 2 and codes.shape[0] == 3 and np.all(np.isfinite(codes))
        assert not np.allclose(codes[0], codes[1])  # codes depend on the image


def test_wgan_critic_weights_stay_clipped(tmp_path):
    config = tiny_config("wgan")
    config.model.clip_value = 0.003
    config.optim.name, config.optim.lr = "rmsprop", 1e-2
    dataset = synthetic_dataset()
    ts = train_lib.train(config, tmp_path, dataset=dataset)
    critic = ts["params"]["disc"]
    leaves = jax.tree.leaves(critic)
    assert max(float(jnp.abs(x).max()) for x in leaves) <= 0.003 + 1e-7
    paths = jax.tree_util.tree_leaves_with_path(critic)
    scales = [x for path, x in paths if "scale" in jax.tree_util.keystr(path)]
    assert scales and max(float(jnp.abs(x).max()) for x in scales) <= 0.003 + 1e-7  # BatchNorm's scale too
    assert max(float(jnp.abs(x).max()) for x in jax.tree.leaves(ts["params"]["gen"])) > 0.003  # gen unclipped


def critic_param_paths(config) -> list[str]:
    """The paths of the critic's (disc's) parameters as built by this config."""
    params = runtime.init_state(runtime.build_family(config), jax.random.key(0))["params"]["disc"]
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_leaves_with_path(params)]


def test_wgan_critic_is_the_reference_codes_three_convs_without_biases():
    config = tiny_config("wgan")
    paths = critic_param_paths(config)
    assert sum("kernel" in p for p in paths) == 4  # three stride-2 convs and the score layer
    assert not [p for p in paths if "bias" in p and "BatchNorm" not in p]  # BatchNorm's offset only
    assert sum("scale" in p for p in paths) == 2  # BatchNorm after the second and third convs
    config.model.critic_convs, config.model.critic_bias = 4, True  # the other GANs' DCGAN stack
    paths = critic_param_paths(config)
    assert sum("kernel" in p for p in paths) == 5
    assert sum("bias" in p and "BatchNorm" not in p for p in paths) == 2  # the first conv's and the score's


def test_bfloat16_compute_trains_with_float32_state(tmp_path):
    config = tiny_config("gan", num_steps=2)
    config.runtime.compute_dtype = "bfloat16"
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
    assert "disc_batch_norm" not in config.model  # the penalty is per example: no BatchNorm to ask for
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
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


# ----------------------------------------------------------------------------------------- a new family


class Affine(nn.Module):
    """y = a x + b per pixel, a and b scalars starting at the identity."""

    @nn.compact
    def __call__(self, x, train=True):
        a = self.param("a", nn.initializers.ones, ())
        return a * x + self.param("b", nn.initializers.zeros, ())


def make_toy_translator(model, setup):
    """A paired two-domain family defined here only: fits y = a x + b to the second domain's pixels."""
    net = Affine()

    def loss(params, state, batch, key):
        out, state = apply_net(net, "g", params, state, batch["image"], train=True)
        err = jnp.mean(jnp.square(out - batch["image_b"]))
        return err, ({"mse": err}, state)

    def translate(params, state, images):
        return jnp.clip(apply_net(net, "g", params, state, images, train=False)[0], 0.0, 1.0)

    def evaluate(params, state, batch):
        out = translate(params, state, batch["image"])
        return {"mse": jnp.mean(jnp.square(out - batch["image_b"]), axis=(1, 2, 3))}

    image = (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)
    return Family(
        networks={"g": net},
        example_inputs={"g": image},
        optimizers={"g": setup.optimizer},
        updates=(Update("fit", ("g",), loss),),
        data="paired_domains",
        can=Abilities(translate=translate, evaluate=evaluate),
    )


def register_toy_translator():
    """What a user's own family file does: register the model, with its (here empty) config block."""
    register("toy_translator", ModelSpec(make_toy_translator, ml_collections.ConfigDict, {"optim.lr": 0.05}))


TOY_CONFIG = """
import sys
sys.path.insert(0, {tests!r})
from test_models import register_toy_translator
from jaxgen.config import base_config

register_toy_translator()


def get_config():
    return base_config(
        "toy_translator",
        data={{"source": "idx", "idx_dir": {idx!r}, "domain_b": "negative"}},
        train={{"batch_size": 8, "num_steps": 40, "checkpoint_every": 10, "eval_every": 10, "log_every": 5,
                "num_grid_images": 4}},
        eval={{"kid_subsets": 2, "kid_subset_size": 8}},
        sample={{"num": 12}},
    )
"""


def test_a_family_registered_by_a_test_trains_resumes_evaluates_and_samples_through_the_cli(
    tmp_path, idx_dir
):
    config_file = tmp_path / "toy.py"
    config_file.write_text(TOY_CONFIG.format(tests=str(REPO / "tests"), idx=str(idx_dir)))
    workdir = tmp_path / "run"

    def cli(*extra):
        command = [
            sys.executable,
            "-m",
            "jaxgen.main",
            f"--config={config_file}",
            f"--workdir={workdir}",
            *extra,
        ]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)

    first = cli("--config.train.num_steps=20")
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = cli()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from the checkpoint at step 20" in resumed.stderr
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [10, 20, 30, 40]
    assert evals[-1]["test_mse"] < 0.5 * evals[0]["test_mse"]  # it learns the negative
    assert (workdir / "samples" / "translations_final.png").exists()

    scored = cli("--mode=eval")
    assert scored.returncode == 0, scored.stderr[-3000:]
    report = json.loads((workdir / "eval.json").read_text())
    assert report["source"]["step"] == 40 and report["model"]["test_mse"] == pytest.approx(
        evals[-1]["test_mse"]
    )

    drawn = cli("--mode=sample")
    assert drawn.returncode == 0, drawn.stderr[-3000:]
    with np.load(workdir / "samples.npz") as f:
        images, inputs, labels = f["images"], f["inputs"], f["labels"]
    assert images.shape == inputs.shape == (12, 32, 32, 1) and labels.shape == (12,)
    identity_error = np.abs(inputs - (1.0 - inputs)).mean()
    assert np.abs(images - (1.0 - inputs)).mean() < 0.5 * identity_error
    assert "toy_translator" not in REGISTRY  # nothing in this process (or the package) learned of it
