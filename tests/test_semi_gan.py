"""Semi-supervised GANs: the real/fake logit of K and K+1 class discriminators, the losses by hand, weight
norm, the noise, which networks each update trains, the supervised baseline and a short run's evaluation."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from jaxgen import config as config_lib
from jaxgen import runtime
from jaxgen import train as train_lib
from jaxgen.data import load_dataset
from jaxgen.evaluate import evaluate
from jaxgen.models import semi_gan


def _family(name, **model):
    config = tiny_config(name)
    config.model.disc_widths, config.model.gen_widths = (12, 8), (16,)
    for key, value in model.items():
        setattr(config.model, key, value)
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    return family, ts["params"], ts["state"]


def _images(n=6, seed=3):
    return jax.random.uniform(jax.random.key(seed), (n, 32, 32, 1))


def _batch(n=6):
    return {
        "image": _images(n),
        "label": jnp.full((n,), -1),
        "labelled_image": _images(n, seed=9),
        "labelled_label": jnp.arange(n) % 10,
    }


def test_real_logit_is_the_probability_of_not_fake_for_both_discriminators():
    logits = jax.random.normal(jax.random.key(0), (5, 11)) * 3
    # K+1 outputs: sigmoid(s) is 1 - softmax(...)[fake]
    s = semi_gan.real_logit(logits, "learned")
    np.testing.assert_allclose(jax.nn.sigmoid(s), 1 - jax.nn.softmax(logits)[:, -1], rtol=1e-5)
    # K outputs and a fixed fake logit 0: the same with the eleventh logit pinned at 0
    pinned = logits.at[:, -1].set(0.0)
    np.testing.assert_allclose(
        semi_gan.real_logit(pinned[:, :10], "fixed"), semi_gan.real_logit(pinned, "learned"), rtol=1e-5
    )


def test_unlabelled_and_feature_matching_losses_by_hand():
    real, fake = jnp.array([2.0, -1.0]), jnp.array([0.5, -3.0])
    d_real, d_fake = jax.nn.sigmoid(real), jax.nn.sigmoid(fake)
    expected = 0.5 * (-jnp.log(d_real) - jnp.log(1 - d_fake))
    np.testing.assert_allclose(semi_gan.unlabelled_loss(real, fake), expected, rtol=1e-5)
    a = jnp.array([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    b = jnp.array([[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]])  # mean (1, 1)
    assert float(semi_gan.feature_matching_loss(a, b)) == pytest.approx((1 + 4) / 2)
    # only the means count: a batch and a shuffled batch of other examples with the same mean match
    assert float(semi_gan.feature_matching_loss(a, jnp.array([[2.0, 4.0], [2.0, 2.0]]))) == 0.0


def test_weight_norm_layer_has_unit_directions_scaled_by_g():
    layer = semi_gan.WeightNormDense(3)
    x = jax.random.normal(jax.random.key(1), (4, 5))
    params = layer.init(jax.random.key(0), x)["params"]
    scaled = {**params, "v": params["v"] * 7.0}  # the length of v does not matter
    np.testing.assert_allclose(
        layer.apply({"params": params}, x), layer.apply({"params": scaled}, x), rtol=1e-5
    )
    kernel = params["v"] / jnp.linalg.norm(params["v"], axis=0)
    doubled = {**params, "g": 2 * params["g"]}
    np.testing.assert_allclose(layer.apply({"params": doubled}, x), 2 * (x @ kernel), rtol=1e-5)


def test_discriminator_noise_only_while_training():
    family, params, state = _family("fm_gan")
    disc = family.networks["disc"]
    x = jax.random.uniform(jax.random.key(2), (4, 784))
    variables = {"params": params["disc"], **state["disc"]}
    a = disc.apply(variables, x, train=True, rngs={"noise": jax.random.key(0)})[1]
    b = disc.apply(variables, x, train=True, rngs={"noise": jax.random.key(1)})[1]
    c = disc.apply(variables, x, train=False)[1]
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(c, disc.apply(variables, x, train=False)[1])
    quiet = semi_gan.NoisyDiscriminator((12, 8), 10, 0.0, 0.0)
    d = quiet.apply(variables, x, train=True, rngs={"noise": jax.random.key(0)})[1]
    np.testing.assert_allclose(d, c, rtol=1e-5)


@pytest.mark.parametrize("name, outputs", [("fm_gan", 10), ("sgan", 11)])
def test_discriminator_outputs_and_the_classifier_reads_ten_classes(name, outputs):
    family, params, state = _family(name)
    assert params["disc"]["WeightNormDense_2"]["v"].shape == (8, outputs)
    assert family.can.classify(params, state, _images(3)).shape == (3, 10)
    assert family.can.encode(params, state, _images(3)).shape == (3, 8)
    assert family.data == "labelled_subset"


@pytest.mark.parametrize("name", ["fm_gan", "sgan"])
def test_losses_never_read_the_unlabelled_labels_but_read_the_labelled_ones(name):
    family, params, state = _family(name)
    hidden = _batch()
    leaked = {**hidden, "label": jnp.arange(6)}
    for update in family.updates:
        a, _ = update.loss(params, state, hidden, jax.random.key(1))
        b, _ = update.loss(params, state, leaked, jax.random.key(1))
        assert float(a) == float(b), update.name
    disc = family.updates[0]
    relabelled = {**hidden, "labelled_label": jnp.zeros(6, jnp.int32)}
    assert float(disc.loss(params, state, hidden, jax.random.key(1))[0]) != float(
        disc.loss(params, state, relabelled, jax.random.key(1))[0]
    )


def test_feature_matching_generator_depends_on_the_real_batch_and_the_gan_one_does_not():
    batch, other = _batch(), {**_batch(), "image": _images(6, seed=4)}
    for name, depends in (("fm_gan", True), ("sgan", False)):
        family, params, state = _family(name)
        gen = {u.name: u for u in family.updates}["gen"]
        assert gen.networks == ("gen",)
        a = float(gen.loss(params, state, batch, jax.random.key(1))[0])
        b = float(gen.loss(params, state, other, jax.random.key(1))[0])
        assert (a != b) == depends, name

        def objective(gen_params, gen=gen, params=params, state=state):
            return gen.loss({**params, "gen": gen_params}, state, batch, jax.random.key(1))[0]

        grads = jax.grad(objective)(params["gen"])
        assert sum(float(jnp.abs(g).sum()) for g in jax.tree.leaves(grads)) > 0


def test_discriminator_loss_is_cross_entropy_plus_weighted_unlabelled_term():
    family, params, state = _family("fm_gan", unlabelled_weight=0.0)
    disc = family.updates[0]
    loss, (metrics, _) = disc.loss(params, state, _batch(), jax.random.key(1))
    assert float(loss) == pytest.approx(float(metrics["labelled_cross_entropy"]), rel=1e-6)
    family, params, state = _family("fm_gan", unlabelled_weight=2.0)
    loss, (metrics, _) = family.updates[0].loss(params, state, _batch(), jax.random.key(1))
    expected = metrics["labelled_cross_entropy"] + 2.0 * metrics["unlabelled"]
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_supervised_baseline_has_no_generator_and_ignores_unlabelled_images():
    family, params, state = _family("fm_gan", supervised_only=True)
    assert set(family.networks) == {"disc"} and [u.name for u in family.updates] == ["disc"]
    assert family.can.sample is None
    batch = _batch()
    a = family.updates[0].loss(params, state, batch, jax.random.key(1))[0]
    b = family.updates[0].loss(params, state, {**batch, "image": _images(6, seed=5)}, jax.random.key(1))[0]
    assert float(a) == float(b)


def test_bad_widths_are_refused_naming_the_field():
    config = tiny_config("fm_gan")
    config.model.disc_widths = ()
    with pytest.raises(config_lib.ConfigError, match="model.disc_widths"):
        config_lib.validate(config)
    config = tiny_config("sgan")
    config.model.fake_class = "none"
    with pytest.raises(config_lib.ConfigError, match="model.fake_class"):
        config_lib.validate(config)


def test_short_run_logs_the_error_curve_evaluates_and_draws(tmp_path, idx_dir):
    from test_evaluate import small_eval

    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("fm_gan", num_steps=4, eval_every=2), idx_dir)
    config.model.disc_widths, config.model.gen_widths = (12, 8), (16,)
    config.data.num_labels = 20
    ts = train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    assert set(ts["average"]) == {"disc"}  # the classifier is evaluated on its running average
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "eval" and "test_error" in r] == [2, 4]
    assert "disc/accuracy" in records[0] and "disc/unlabelled" in records[0]
    final = json.loads((tmp_path / "final_metrics.json").read_text())
    assert json.loads((tmp_path / "labelled_subset.json").read_text())["num_labels"] == 20
    report = evaluate(config, tmp_path)["model"]
    assert report["test_error"] == pytest.approx(final["test_error"], abs=1e-6)
    assert report["test_accuracy"] + report["test_error"] == pytest.approx(1.0)
    assert (tmp_path / "samples" / "samples_final.png").exists()
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert "codes.png" in written


def test_data_dependent_init_normalises_each_layer_and_fixes_the_hidden_scales():
    layer = semi_gan.WeightNormDense(12, trainable_scale=False)
    pixels = jax.random.uniform(jax.random.key(4), (40, 30))
    variables = layer.init(jax.random.key(0), pixels)
    normalised, seen = layer.apply(variables, pixels, initialising=True, mutable=True)
    again = layer.apply(seen, pixels)  # the initialised layer on the batch it saw: mean 0, sd 1 per unit
    for out in (normalised, again):
        np.testing.assert_allclose(np.asarray(out.mean(0)), 0.0, atol=1e-5)
        np.testing.assert_allclose(np.asarray(out.std(0)), 1.0, rtol=1e-4)
    # a fixed scale is state, not a parameter the optimizer could move
    assert set(seen) == {"params", "weight_scale"} and "g" not in seen["params"]

    family, params, state = _family("fm_gan")
    assert set(state["disc"]["weight_scale"]) == {"WeightNormDense_0", "WeightNormDense_1"}
    assert "g" in params["disc"]["WeightNormDense_2"]  # the output layer learns its scale
    # the trainer applies it on training images: same key, other biases and scales, same directions
    fresh = runtime.init_state(family, jax.random.key(0))
    uint8 = (np.asarray(_images(50)) * 255).astype(np.uint8)
    with_data = runtime.init_state(family, jax.random.key(0), uint8)
    first = ("disc", "WeightNormDense_0")
    a, b = fresh["params"][first[0]][first[1]], with_data["params"][first[0]][first[1]]
    assert not np.allclose(a["b"], b["b"])
    np.testing.assert_array_equal(a["v"], b["v"])
    scales = with_data["state"]["disc"]["weight_scale"]["WeightNormDense_0"]["g"]
    assert not np.allclose(scales, 1.0)


def test_seeds_in_one_program_match_separate_runs_with_their_own_init_and_average(tmp_path):
    from conftest import synthetic_dataset

    config = tiny_config("fm_gan", num_steps=3)
    config.model.disc_widths, config.model.gen_widths = (12, 8), (16,)
    config.data.num_labels = 20
    many = train_lib.train(config, tmp_path / "many", seeds=[0, 3], dataset=synthetic_dataset())
    for i, seed in enumerate([0, 3]):
        single = config.copy_and_resolve_references()
        single.seed = seed
        alone = train_lib.train(single, tmp_path / f"alone_{seed}", dataset=synthetic_dataset())
        for part in ("params", "average", "state"):  # state: the data-dependent hidden scales
            ours = jax.tree.leaves(jax.tree.map(lambda x, i=i: np.asarray(x[i]), many[part]))
            for a, b in zip(ours, jax.tree.leaves(alone[part]), strict=True):
                np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)
    scales = many["state"]["disc"]["weight_scale"]["WeightNormDense_0"]["g"]
    assert not np.allclose(scales[0], scales[1])  # each seed initialised on its own images
