"""Domain translation: pix2pix (paired) and CycleGAN (unpaired) losses, jitted steps, resume, evaluation,
and the per-domain digit classifiers that score them."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import synthetic_dataset, tiny_config

import jaxgen
from jaxgen import evaluate as evaluate_lib
from jaxgen import features, losses, metrics, runtime
from jaxgen import train as train_lib
from jaxgen.config import ConfigError, validate
from jaxgen.data import feeds, in_domain, load_dataset
from jaxgen.models import Abilities, Family, translation


def two_domains(domain_b: str = "edges", n_train: int = 32, n_test: int = 16):
    data = synthetic_dataset(n_train, n_test)
    return dataclasses.replace(data, second=in_domain(data, domain_b))


def tiny(name: str, **train):
    config = tiny_config(name, **train)
    config.train.batch_size = 4
    return config


def flat(tree) -> dict[str, np.ndarray]:
    return {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_leaves_with_path(tree)}


def resumes_exactly(config, dataset, tmp_path, stop_at: int) -> None:
    """Train config in tmp_path/full at once, and in tmp_path/resumed stopped at stop_at then resumed: the
    final params must be equal bit for bit."""
    full = train_lib.train(config, tmp_path / "full", dataset=dataset)
    half = config.copy_and_resolve_references()
    half.train.num_steps = stop_at
    train_lib.train(half, tmp_path / "resumed", dataset=dataset)
    resumed = train_lib.train(config, tmp_path / "resumed", dataset=dataset)
    a, b = flat(full["params"]), flat(resumed["params"])
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------------------- losses


def test_per_patch_averages_a_per_example_loss_over_each_images_patches():
    logits = jnp.stack([jnp.zeros((3, 3)), jnp.full((3, 3), 100.0)])  # [2 images, 3x3 patches]
    got = translation.per_patch(losses.gan_generator_loss, logits)
    np.testing.assert_allclose(got, [np.log(2.0), 0.0], atol=1e-6)  # -log sigmoid(0), -log sigmoid(100)
    real, fake = jnp.zeros((2, 3, 3)), jnp.zeros((2, 3, 3))
    np.testing.assert_allclose(
        translation.per_patch(losses.gan_discriminator_loss, real, fake), [2 * np.log(2.0)] * 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        translation.squared_error_to(jnp.full((2, 4, 4), 0.25), 1.0), [0.5625, 0.5625], rtol=1e-6
    )


def test_ssim_is_one_for_equal_images_and_matches_the_closed_form_for_constants():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(size=(3, 32, 32, 2)), jnp.float32)
    np.testing.assert_allclose(metrics.ssim(x, x), 1.0, rtol=1e-5)
    noisy = jnp.clip(x + 0.3 * jnp.asarray(rng.normal(size=x.shape), jnp.float32), 0, 1)
    assert float(metrics.ssim(x, noisy).max()) < 0.9
    np.testing.assert_allclose(metrics.ssim(x, noisy), metrics.ssim(noisy, x), rtol=1e-5)  # symmetric
    a, b = 0.2, 0.7  # constant images: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    expected = (2 * a * b + metrics.SSIM_C1) / (a * a + b * b + metrics.SSIM_C1)
    got = metrics.ssim(jnp.full((1, 16, 16, 1), a), jnp.full((1, 16, 16, 1), b))
    np.testing.assert_allclose(got, [expected], rtol=1e-4)


def test_the_history_pool_fills_then_swaps_half_its_fakes_for_stored_ones():
    fakes = jnp.arange(1.0, 7.0).reshape(6, 1, 1, 1)  # image i is the constant i
    pool, filled, seen = translation.pool_query(
        jnp.zeros((4, 1, 1, 1)), jnp.int32(0), fakes, jax.random.key(0)
    )
    # while there is room, every fake is stored in order and passed on as it is
    assert int(filled) == 4 and pool.ravel()[:4].tolist() == [1, 2, 3, 4]
    assert seen.ravel()[:4].tolist() == [1, 2, 3, 4]
    # full: no image is lost or made up - the old pool and the fakes are the new pool and what is seen
    key = jax.random.key(1)
    for _ in range(3):
        key, draw = jax.random.split(key)
        fakes = jax.random.uniform(draw, (32, 1, 1, 1)) + 10.0
        new_pool, filled, seen = translation.pool_query(pool, filled, fakes, draw)
        before = sorted(np.concatenate([pool.ravel(), fakes.ravel()]).tolist())
        assert sorted(np.concatenate([new_pool.ravel(), seen.ravel()]).tolist()) == pytest.approx(before)
        assert int(filled) == 4
        swapped = int(jnp.sum(seen.ravel() != fakes.ravel()))
        assert 6 <= swapped <= 26  # each fake swapped with probability 1/2 (32 draws)
        again = translation.pool_query(pool, filled, fakes, draw)
        np.testing.assert_array_equal(seen, again[2])  # the same key, the same draws
        pool = new_pool


# ----------------------------------------------------------------------------------------- networks


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_generators_keep_the_image_size_and_stay_in_0_1(name):
    config = tiny(name)
    family = runtime.build_family(config)
    state = runtime.init_state(family, jax.random.key(0))
    images = jax.random.uniform(jax.random.key(1), (2, 32, 32, 1))
    out = jax.jit(family.can.translate)(state["params"], state["state"], images)
    assert out.shape == (2, 32, 32, 1) and float(out.min()) >= 0 and float(out.max()) <= 1
    if name == "cyclegan":
        back = jax.jit(family.can.translate_back)(state["params"], state["state"], out)
        assert back.shape == images.shape


def test_unet_skips_reach_every_scale_and_patchgan_scores_patches():
    unet = translation.UNet((4, 8, 16, 32, 32), 3)
    variables = unet.init(jax.random.key(0), jnp.zeros((1, 32, 32, 1)), train=False)
    assert unet.apply(variables, jnp.zeros((2, 32, 32, 1)), train=False).shape == (2, 32, 32, 3)
    # the decoder layer at 16x16 reads its own 4 channels and the encoder's 4: 8 input channels
    kernels = [v.shape for k, v in flat(variables["params"]).items() if "kernel" in k]
    assert (4, 4, 8, 3) in kernels  # the output layer: 4 decoded + 4 skipped channels -> 3
    for downsamples, patches in ((1, 14), (2, 6)):
        disc = translation.PatchDiscriminator(4, downsamples)
        v = disc.init(jax.random.key(0), jnp.zeros((1, 32, 32, 2)), train=False)
        assert disc.apply(v, jnp.zeros((3, 32, 32, 2)), train=False).shape == (3, patches, patches)


def test_l1_only_baseline_has_no_discriminator():
    config = tiny("pix2pix")
    config.model.gan_weight = 0.0
    family = runtime.build_family(config)
    assert sorted(family.networks) == ["gen"] and [u.name for u in family.updates] == ["gen"]
    config.model.l1_weight = 0.0
    with pytest.raises(ConfigError, match="gan_weight and model.l1_weight are both 0"):
        validate(config)


def test_cyclegan_identity_loss_needs_domains_with_the_same_channels():
    config = tiny("cyclegan")
    config.data.domain_b = "coloured"
    with pytest.raises(ConfigError, match="model.identity_weight=5.0: .* set model.identity_weight=0"):
        validate(config)
    config.model.identity_weight = 0.0
    validate(config)
    family = runtime.build_family(config)
    state = runtime.init_state(family, jax.random.key(0))
    coloured = jax.jit(family.can.translate)(state["params"], state["state"], jnp.zeros((1, 32, 32, 1)))
    assert coloured.shape == (1, 32, 32, 3)


# ----------------------------------------------------------------------------------------- training


def test_pix2pix_trains_resumes_exactly_with_its_dropout_and_learns_the_edges(tmp_path):
    dataset = two_domains()
    config = tiny("pix2pix", num_steps=6, checkpoint_every=3)
    resumes_exactly(config, dataset, tmp_path, stop_at=3)
    records = [json.loads(r) for r in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    assert {"disc/loss", "disc/patch_accuracy", "gen/l1", "gen/gan"} <= train[0].keys()
    for r in train:  # the generator's loss is its two weighted terms
        assert r["gen/loss"] == pytest.approx(100 * r["gen/l1"] + r["gen/gan"], rel=1e-5)
    assert (tmp_path / "full" / "samples" / "translations_final.png").exists()


def test_cyclegan_keeps_its_pools_in_the_state_and_resumes_them_exactly(tmp_path):
    dataset = two_domains("negative")
    config = tiny("cyclegan", num_steps=4, checkpoint_every=2)
    config.data.domain_b, config.model.pool_size = "negative", 6
    resumes_exactly(config, dataset, tmp_path, stop_at=2)
    state = runtime.restore_model(config, tmp_path / "resumed")[1]["state"]["extras"]
    assert int(state["pool_filled"]) == 6 and state["pool_a"].shape == (6, 32, 32, 1)
    assert float(jnp.min(jnp.abs(state["pool_b"]).reshape(6, -1).sum(1))) > 0  # every slot holds a fake
    config.model.pool_size = 0  # no pool: no state for it
    family = runtime.build_family(config, dataset)
    assert "pool_a" not in runtime.init_state(family, jax.random.key(0))["state"]["extras"]


def test_cyclegan_updates_its_own_networks_and_adds_up_its_terms(tmp_path):
    dataset = two_domains("negative")
    config = tiny("cyclegan", num_steps=2)
    config.data.domain_b = "negative"
    family = runtime.build_family(config, dataset)
    assert [(u.name, u.networks) for u in family.updates] == [
        ("gen", ("gen_ab", "gen_ba")),
        ("disc", ("disc_a", "disc_b")),
    ]
    ts = train_lib.train(config, tmp_path, dataset=dataset)
    record = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()][1]
    terms = record["gen/gan_ab"] + record["gen/gan_ba"] + 10 * record["gen/cycle_l1"]
    assert record["gen/loss"] == pytest.approx(terms + 5 * record["gen/identity_l1"], rel=1e-5)
    assert record["disc/loss"] == pytest.approx(record["disc/loss_a"] + record["disc/loss_b"], rel=1e-5)
    assert int(ts["step"]) == 2
    samples = tmp_path / "samples"
    assert (samples / "translations_final.png").exists() and (
        samples / "back_translations_final.png"
    ).exists()
    rows = runtime.cycle_rows(family, ts["params"], ts["state"], feeds.device_arrays(family.data, dataset))
    assert list(rows) == ["A (test images)", "A → B", "A → B → A", "B (test images)", "B → A", "B → A → B"]
    there = family.can.translate(ts["params"], ts["state"], jnp.asarray(rows["A (test images)"]))
    np.testing.assert_allclose(rows["A → B"], there, atol=1e-5)
    np.testing.assert_allclose(
        rows["A → B → A"], family.can.translate_back(ts["params"], ts["state"], there), atol=1e-5
    )
    assert (samples / "cycles_final.png").exists()


# ----------------------------------------------------------------------------------------- evaluation


def test_eval_scores_both_directions_with_the_target_domains_classifiers(tmp_path, idx_dir):
    config = tiny("cyclegan", num_steps=1)
    config.data.source, config.data.idx_dir = "idx", str(idx_dir)
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    report = evaluate_lib.evaluate(config, tmp_path)
    model = report["model"]
    for tag, domain in (("ab", "edges"), ("ba", "original")):
        assert 0 <= model[f"translation_{tag}_l1"] <= 1 and -1 <= model[f"translation_{tag}_ssim"] <= 1
        assert 0 <= model[f"translation_{tag}_digit_preservation"] <= 1
        assert np.isfinite(model[f"translation_{tag}_fid"]) and model[f"translation_{tag}_fid"] > 0
        assert model[f"translation_{tag}_classifier"]["domain"] == domain
    assert model["test_l1_ab"] == pytest.approx(model["translation_ab_l1"], rel=1e-4)


def test_an_exact_translator_scores_perfectly_against_the_true_transform():
    """A family whose translation is the edges transform itself: L1 within uint8 rounding, SSIM 1, FID 0,
    and digit preservation equal to the edges classifier's own accuracy on the true edges."""
    from jaxgen.data.domains import edges

    dataset = two_domains("edges", n_test=64)
    family = Family(
        networks={},
        example_inputs={},
        optimizers={},
        updates=(),
        data="paired_domains",
        can=Abilities(translate=lambda params, state, images: edges(images, None)),
    )
    config = tiny("pix2pix")
    config.eval.chunk = 16
    scores = evaluate_lib.translation_quality(family, {"params": {}, "state": {}}, dataset, config)
    assert scores["translation_ab_l1"] < 1 / 255 and scores["translation_ab_ssim"] == pytest.approx(
        1, abs=1e-3
    )
    assert abs(scores["translation_ab_fid"]) < 1e-2
    _, probs = features.extract(features.load_extractor(domain="edges"), dataset.second.test_images)
    accuracy = float(metrics.label_accuracy(probs, jnp.asarray(dataset.test_labels)))
    assert scores["translation_ab_digit_preservation"] == pytest.approx(accuracy, abs=1 / 64 + 1e-6)
    confusion = np.array(scores["translation_ab_confusion"])  # rows: the input's digit; columns: read
    per_digit = np.bincount(dataset.test_labels, minlength=10)
    assert confusion.sum() == 64 and (confusion.sum(1) == per_digit).all()
    assert np.trace(confusion) / 64 == pytest.approx(scores["translation_ab_digit_preservation"])
    assert scores["translation_ab_misreads"] == metrics.largest_misreads(confusion)
    assert "translation_ba_l1" not in scores  # one direction only: no translate_back
    assert scores["translation_ab_domains"] == "original → edges"


# ----------------------------------------------------------------------------------------- classifiers


@pytest.mark.parametrize("domain", ["edges", "negative", "thick", "rotated", "coloured"])
def test_packaged_domain_classifiers_verify_and_read_their_domain(domain):
    extractor = features.load_extractor(domain=domain)
    assert extractor.info["domain"] == domain and extractor.info["test_accuracy"] > 0.98
    assert extractor.sha256 == features.file_sha256(features.domain_asset(domain))


def test_a_missing_domain_classifier_names_its_build_command(tmp_path, monkeypatch):
    monkeypatch.setattr(features, "ASSETS", tmp_path)
    with pytest.raises(features.ExtractorError, match="--domain=coloured --workdir=runs/extractor_coloured"):
        features.load_extractor(domain="coloured")
    with pytest.raises(features.ExtractorError, match="--domain='paint'"):
        features.build(tmp_path / "w", domain="paint")


# ----------------------------------------------------------------------------------------- CoGAN


def test_cogan_shares_all_generator_layers_but_the_output_and_all_discriminator_layers_but_the_input():
    config = tiny("cogan")
    family = runtime.build_family(config)
    params = runtime.init_state(family, jax.random.key(0))["params"]
    per_domain = {name for name in params["gen"] if name.startswith("out_")}
    assert per_domain == {"out_a", "out_b"} and set(params["gen"]) == {"UpStack_0", "out_a", "out_b"}
    trunk = params["gen"]["UpStack_0"]  # the DCGAN up stack without its output layer: 4x4 -> 16x16 maps
    assert {n for n in trunk if not n.startswith("BatchNorm")} == {"Dense_0", "Conv_0", "Conv_1"}
    assert trunk["Conv_1"]["kernel"].shape[-1] == 4  # width 4 at 16x16; the heads write the 32x32 images
    assert {n for n in params["disc"] if n.startswith("in_")} == {"in_a", "in_b"} and len(params["disc"]) > 2
    drawn = jax.jit(family.can.sample, static_argnums=3)(
        params, runtime.init_state(family, jax.random.key(0))["state"], jax.random.key(1), 3
    )
    assert drawn["images"].shape == drawn["images_b"].shape == (3, 32, 32, 1)


def test_cogan_trains_on_unpaired_domains_and_draws_pair_grids(tmp_path):
    dataset = two_domains("negative")
    config = tiny("cogan", num_steps=2)
    config.data.domain_b = "negative"
    train_lib.train(config, tmp_path, dataset=dataset)
    record = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()][1]
    assert record["disc/loss"] == pytest.approx(record["disc/loss_a"] + record["disc/loss_b"], rel=1e-5)
    assert record["gen/loss"] == pytest.approx(record["gen/loss_a"] + record["gen/loss_b"], rel=1e-5)
    assert (tmp_path / "samples" / "pairs_final.png").exists() and (
        tmp_path / "samples" / "pairs.gif"
    ).exists()


def test_pair_scores_are_perfect_for_exact_pairs_and_low_for_unrelated_ones():
    """B images that are exactly the negatives of the A images agree on every pixel; B images of other
    digits agree far less, and the digit agreement follows."""
    config = tiny("cogan")
    config.data.domain_b = "negative"
    images = synthetic_dataset(8, 64).test_images[:40] / 255.0
    exact = evaluate_lib.pair_quality(images, 1.0 - images, config)
    assert exact["pair_pixel_agreement"] == 1.0 and exact["pair_domains"] == "original → negative"
    shuffled = evaluate_lib.pair_quality(images, 1.0 - images[::-1], config)
    assert shuffled["pair_pixel_agreement"] < 0.99
    assert exact["pair_digit_agreement"] > shuffled["pair_digit_agreement"]


# ----------------------------------------------------------------------------------------- UNIT


def test_unit_shares_the_high_level_layers_of_its_encoders_and_decoders_and_reads_both_channel_counts():
    config = tiny("unit")
    config.data.name_b, config.data.domain_b = "", "coloured"
    family = runtime.build_family(config)
    state = runtime.init_state(family, jax.random.key(0))
    params = state["params"]
    # per domain: the first down convs and the last up convs; shared: the rest
    assert {n for n in params["enc"] if n.startswith("own_")} == {"own_a", "own_b"}
    assert {"Conv_0", "Dense_0"} <= set(params["enc"]) and "UpStack_0" in params["dec"]
    assert {"up_a", "up_b", "out_a", "out_b"} <= set(params["dec"])
    assert params["dec"]["out_b"]["kernel"].shape[-1] == 3 and params["dec"]["out_a"]["kernel"].shape[-1] == 1
    grey = jax.random.uniform(jax.random.key(1), (2, 32, 32, 1))
    coloured = jax.jit(family.can.translate)(params, state["state"], grey)
    assert coloured.shape == (2, 32, 32, 3) and 0 <= float(coloured.min()) and float(coloured.max()) <= 1
    back = jax.jit(family.can.translate_back)(params, state["state"], coloured)
    assert back.shape == (2, 32, 32, 1)
    logits_b = jax.jit(family.can.classify_b)(params, state["state"], coloured)
    assert logits_b.shape == (2, 10)


def test_unit_styles_are_read_per_domain_and_change_only_that_domains_colours():
    """model.style_dim: each domain's style comes from its own layers (B's style does not move with A's
    image), a recoloured image keeps its content code and changes its style, a style starts without
    effect (FiLM at zero), and once it acts, two styles write one content code as
    two different coloured images while the grey domain's output stays the same; without styles the
    networks have no style or FiLM parameters."""
    config = tiny("unit")
    config.data.name_b, config.data.domain_b = "", "coloured"
    plain = runtime.init_state(runtime.build_family(config), jax.random.key(0))["params"]
    assert not [n for n in {**plain["enc"], **plain["dec"]} if n.startswith(("style_", "film_"))]
    config.model.style_dim = 4
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    params, state = ts["params"], ts["state"]
    assert {"style_a", "style_b"} <= set(params["enc"]) and {"film_a", "film_b"} <= set(params["dec"])
    grey, coloured = (
        jax.random.uniform(jax.random.key(1), (2, 32, 32, 1)),
        jax.random.uniform(jax.random.key(2), (2, 32, 32, 3)),
    )

    def style_b(x_a):
        variables = {"params": params["enc"], **state["enc"]}
        return family.networks["enc"].apply(variables, x_a, coloured, train=False)

    outputs = style_b(grey)
    assert len(outputs) == 4 and outputs[3].shape == (2, 4)
    np.testing.assert_array_equal(style_b(grey[::-1])[3], outputs[3])  # B's style: B's image only
    assert not np.allclose(style_b(grey[::-1])[0], outputs[0])
    # recoloured (each channel scaled and shifted): the same content code, another style
    variables = {"params": params["enc"], **state["enc"]}
    recoloured = family.networks["enc"].apply(
        variables, grey, 0.2 + coloured * jnp.array([0.5, 0.7, 0.3]), train=False
    )
    np.testing.assert_allclose(recoloured[1], outputs[1], rtol=1e-3, atol=1e-4)
    assert not np.allclose(recoloured[3], outputs[3], atol=1e-3)
    z = jax.random.normal(jax.random.key(3), (2, config.model.latent_dim))
    style = jax.random.normal(jax.random.key(4), (2, 4))
    decode_b = jax.jit(family.can.decode_b)
    np.testing.assert_array_equal(family.can.decode_b(params, state, z), decode_b(params, state, z))

    def written(p, s):
        return family.networks["dec"].apply({"params": p["dec"], **state["dec"]}, z, z, s, s, train=False)

    same = written(params, style)
    np.testing.assert_allclose(same[1], decode_b(params, state, z), atol=1e-6)  # FiLM starts at zero
    shape = params["dec"]["film_a"]["kernel"].shape
    film = {f"film_{d}": {"kernel": jax.random.normal(jax.random.key(5), shape)} for d in "ab"}
    acting = {**params, "dec": {**params["dec"], **{k: {**params["dec"][k], **v} for k, v in film.items()}}}
    # each domain's own reconstruction is written in the image's own style, not the prior's mean one
    means = family.networks["enc"].apply(variables, grey, coloured, train=False)
    mean_b, own_style = means[1], means[3]
    recon_b = family.can.reconstruct_b(acting, state, coloured)
    in_own_style = family.networks["dec"].apply(
        {"params": acting["dec"], **state["dec"]}, mean_b, mean_b, own_style, own_style, train=False
    )[1]
    np.testing.assert_allclose(recon_b, in_own_style, atol=1e-6)
    # the styles of an untrained head are small (|s| < 0.1 here), hence a small but clear difference
    assert float(jnp.abs(recon_b - family.can.decode_b(acting, state, mean_b)).max()) > 1e-4
    one, other = written(acting, style), written(acting, -style)
    assert float(jnp.abs(one[1] - other[1]).mean()) > 1e-3  # B in two styles
    assert float(jnp.abs(one[0] - other[0]).mean()) > 1e-3  # A's style acts on A alone, through film_a
    only_b = {**acting, "dec": {**acting["dec"], "film_a": params["dec"]["film_a"]}}
    np.testing.assert_array_equal(written(only_b, style)[0], written(only_b, -style)[0])


def test_unit_discriminator_adaptation_classifies_both_domains_through_shared_layers():
    """adapt_with=discriminator: one discriminator, a first conv per domain and everything after it shared,
    so with B's first conv set to A's it reads B exactly as it reads A; no latent classifier."""
    config = tiny("unit")
    config.data.name_b, config.data.domain_b = "", "negative"
    config.model.adapt_with = "discriminator"
    family = runtime.build_family(config)
    assert set(family.networks) == {"enc", "dec", "disc"}
    assert [(u.name, u.networks) for u in family.updates] == [("disc", ("disc",)), ("gen", ("enc", "dec"))]
    state = runtime.init_state(family, jax.random.key(0))
    params = state["params"]
    assert {"in_a", "in_b", "score", "classify"} <= set(params["disc"])
    images = jax.random.uniform(jax.random.key(1), (3, 32, 32, 1))
    classify, classify_b = jax.jit(family.can.classify), jax.jit(family.can.classify_b)
    a, b = classify(params, state["state"], images), classify_b(params, state["state"], images)
    assert a.shape == b.shape == (3, 10) and not np.allclose(a, b)
    same = {**params, "disc": {**params["disc"], "in_b": params["disc"]["in_a"]}}
    np.testing.assert_allclose(classify_b(same, state["state"], images), a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "adapt_with, recon_loss, style_dim, semantic_weight, matched_weight, resume",
    [  # resumed where the networks or the data differ (three trainings each); the others on one training
        ("latent", "l1", 0, 0, 0, False),
        ("discriminator", "l1", 0, 0, 0, True),
        ("latent", "mse", 0, 2.0, 0, False),
        ("latent", "l1", 3, 0, 0, True),
        ("latent", "l1", 0, 0, 3.0, True),
    ],
)
def test_unit_loss_adds_up_its_weighted_terms_and_trains_resumably(
    tmp_path, adapt_with, recon_loss, style_dim, semantic_weight, matched_weight, resume
):
    dataset = two_domains("negative")
    config = tiny("unit", num_steps=4, checkpoint_every=2)
    config.data.name_b, config.data.domain_b = "", "negative"
    config.model.adapt_with, config.model.recon_loss = adapt_with, recon_loss
    config.model.style_dim, config.model.style_weight = style_dim, 0.7
    config.model.semantic_weight, config.model.matched_weight = semantic_weight, matched_weight
    if matched_weight:
        config.data.match_b, config.data.match_count = "gromov_wasserstein", 12
    on_latent = adapt_with == "latent"
    family = runtime.build_family(config, dataset)
    assert [(u.name, u.networks) for u in family.updates] == [
        ("disc", ("d_a", "d_b") if on_latent else ("disc",)),
        ("gen", ("enc", "dec", "cls") if on_latent else ("enc", "dec")),
    ]
    if resume:
        resumes_exactly(config, dataset, tmp_path, stop_at=2)
    else:
        train_lib.train(config, tmp_path / "full", dataset=dataset)
    record = [json.loads(r) for r in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()][1]
    m = config.model
    terms = (
        m.gan_weight * record["gen/gan"]
        + m.kl_weight * record["gen/kl"]
        + m.recon_weight * record[f"gen/recon_{recon_loss}"]
        + m.cycle_kl_weight * record["gen/cycle_kl"]
        + m.cycle_weight * record[f"gen/cycle_{recon_loss}"]
    )
    if style_dim:
        assert record["gen/style_cycle"] > 0
        terms += m.style_weight * record["gen/style_cycle"]
    else:
        assert "gen/style_cycle" not in record
    if semantic_weight:  # two cross-entropies of ten classes, and an agreement rate
        assert 0 < record["gen/semantic"] < 20 and 0 <= record["gen/semantic_agreement"] <= 1
        terms += m.semantic_weight * record["gen/semantic"]
    else:
        assert "gen/semantic" not in record and "gen/semantic_agreement" not in record
    if matched_weight:  # two cross-entropies of ten classes, and an agreement rate
        assert 0 < record["gen/matched_ce"] < 20 and 0 <= record["gen/matched_agreement"] <= 1
        terms += m.matched_weight * record["gen/matched_ce"]
    else:
        assert "gen/matched_ce" not in record and "gen/matched_agreement" not in record
    other = {"l1": "mse", "mse": "l1"}[recon_loss]
    assert f"gen/recon_{other}" not in record and f"gen/cycle_{other}" not in record
    disc_terms = record["disc/loss_a"] + record["disc/loss_b"]
    if on_latent:
        terms += m.class_weight * record["gen/class_ce"]
    else:  # the classifier and the feature ties are the discriminator's
        assert "gen/class_ce" not in record and record["disc/feature"] > 0
        disc_terms += m.class_weight * record["disc/class_ce"] + m.feature_weight * record["disc/feature"]
    assert record["gen/loss"] == pytest.approx(terms, rel=1e-5)
    assert record["disc/loss"] == pytest.approx(disc_terms, rel=1e-5)


def test_unit_semantic_loss_reads_translations_with_the_fixed_mnist_classifier():
    """The semantic term's reader is the packaged MNIST classifier (its class probabilities are the
    metrics' own), reads several channels through their mean, passes gradients to the images it reads, and
    adds no trained network; it needs MNIST itself as domain A, or the config names the fields."""
    read_digit = translation.source_classifier()
    images = jax.random.uniform(jax.random.key(0), (6, 32, 32, 1))
    extractor = features.load_extractor(domain="original")
    np.testing.assert_allclose(
        jax.nn.softmax(read_digit(images)), features.extract(extractor, images)[1], rtol=1e-5, atol=1e-6
    )
    coloured = jnp.concatenate([images * 0.5, images, images * 1.5], -1)  # channel mean = images
    np.testing.assert_allclose(read_digit(coloured), read_digit(images), rtol=1e-5, atol=1e-5)
    gradient = jax.grad(lambda x: losses.softmax_cross_entropy(read_digit(x), jnp.arange(6)).sum())(images)
    assert gradient.shape == images.shape and float(jnp.abs(gradient).max()) > 0

    config = tiny("unit")
    plain = runtime.build_family(config)
    config.model.semantic_weight = 1.0
    validate(config)
    assert runtime.build_family(config).networks.keys() == plain.networks.keys()
    config.data.domain_a = "edges"
    with pytest.raises(ConfigError, match="model.semantic_weight=1.0: .* data.domain_a='edges'"):
        validate(config)


def test_unit_matched_labels_need_the_matching_and_the_latent_classifier():
    config = tiny("unit")
    config.model.matched_weight = 1.0
    with pytest.raises(ConfigError, match="matched_weight=1.0 .* set data.match_b='gromov_wasserstein'"):
        validate(config)
    config.data.match_b = "gromov_wasserstein"
    validate(config)
    config.model.adapt_with = "discriminator"
    with pytest.raises(ConfigError, match="model.adapt_with='discriminator'; set model.adapt_with='latent'"):
        validate(config)
    config.data.match_b = "optimal"
    with pytest.raises(ConfigError, match="data.match_b"):
        validate(config)


@pytest.mark.parametrize(
    "adapt_with, semantic_weight, matched_weight",
    [("latent", 0, 0), ("discriminator", 0, 0), ("latent", 1.0, 0), ("latent", 0, 1.0)],
)
def test_unit_never_reads_a_label_of_domain_b_and_reports_its_accuracy_there(
    tmp_path, idx_dir, adapt_with, semantic_weight, matched_weight
):
    """Domain B from another dataset (data.name_b): its labels are only read by evaluation; changing them
    changes the reported domain-B accuracy and nothing that training did (the semantic term's targets
    on B are the source classifier's readings, the matched labels come from the images, not B's labels)."""
    config = tiny("unit", num_steps=2)
    config.model.adapt_with, config.model.semantic_weight = adapt_with, semantic_weight
    config.model.matched_weight = matched_weight
    if matched_weight:
        config.data.match_b, config.data.match_count = "gromov_wasserstein", 50
    config.data.source, config.data.idx_dir = "idx", str(idx_dir)
    dataset = load_dataset(config.data)
    assert not dataset.second.aligned and len(dataset.second.train_images) == 1347
    relabelled = dataclasses.replace(
        dataset, second=dataclasses.replace(dataset.second, train_labels=dataset.second.train_labels[::-1])
    )
    first = train_lib.train(config, tmp_path / "a", dataset=dataset)
    second = train_lib.train(config, tmp_path / "b", dataset=relabelled)
    a, b = flat(first["params"]), flat(second["params"])
    assert all(np.array_equal(a[k], b[k]) for k in a)
    report = evaluate_lib.evaluate(config, tmp_path / "a")
    model = report["model"]
    assert 0 <= model["test_b_accuracy"] <= 1 and model["test_b_error"] == pytest.approx(
        1 - model["test_b_accuracy"], abs=1e-6
    )
    assert model["translation_ab_domains"] == "mnist original → uci_digits original"
    assert "translation_ab_l1" not in model  # no ground truth: B is another dataset
    assert model["translation_ab_digits"].startswith("skipped: no packaged digit classifier of uci_digits")
    assert 0 <= model["translation_ba_digit_preservation"] <= 1  # read by the MNIST classifier
    trained = jaxgen.load(tmp_path / "a")
    uci = dataset.second.test_images[:5]
    assert trained.classify_b(uci).shape == (5, 10) and trained.translate_back(uci).shape == (5, 32, 32, 1)
    # the shared latent space by hand: B's codes written in A are the translations back, A's written in B
    # the translations; B's own autoencoder reconstructs in B
    mnist = dataset.test_images[:5]
    codes_b, codes_a = trained.encode_b(uci), trained.encode(mnist)
    assert codes_b.shape == (5, config.model.latent_dim)
    np.testing.assert_allclose(trained.decode(codes_b), trained.translate_back(uci), atol=1e-6)
    np.testing.assert_allclose(trained.decode_b(codes_a), trained.translate(mnist), atol=1e-6)
    np.testing.assert_allclose(trained.reconstruct_b(uci), trained.decode_b(codes_b), atol=1e-6)  # no styles


def test_unit_interpolation_walks_one_latent_path_in_both_domains(tmp_path):
    """Frame 0 of the path decoded in B is the translation of the start image, frame 0 in A its
    reconstruction; viz writes both rows of every pair in one picture (grey and coloured as RGB)."""
    from jaxgen.embed import interpolation_frames, model_pictures

    config = tiny("unit")
    config.data.name_b, config.data.domain_b = "", "coloured"
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    params, state = ts["params"], ts["state"]
    a, b = (jax.random.uniform(jax.random.key(i), (3, 32, 32, 1)) for i in (1, 2))
    path_b = interpolation_frames(family, params, state, a, b, 5, family.can.decode_b)
    assert path_b.shape == (5, 3, 32, 32, 3)
    np.testing.assert_allclose(path_b[0], family.can.translate(params, state, a), atol=1e-5)
    path_a = interpolation_frames(family, params, state, a, b, 5)
    np.testing.assert_allclose(path_a[-1], family.can.reconstruct(params, state, b), atol=1e-5)
    images = np.asarray(synthetic_dataset(8, 16).test_images)
    written = {p.name for p in model_pictures(family, ts, images, tmp_path, 0, images)}
    assert {"interpolation.png", "interpolation_domains.png"} <= written
