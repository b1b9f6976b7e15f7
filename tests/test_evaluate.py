"""The packaged feature extractor, --mode=eval (eval.json) and --mode=viz (figures)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, ScalarParam, synthetic_arrays, tiny_config, toy_spec

from jaxgen import evaluate as evaluate_lib
from jaxgen import features, metrics, runtime
from jaxgen import train as train_lib
from jaxgen.data import load_dataset
from jaxgen.embed import INTERPOLATION_STEPS
from jaxgen.models import REGISTRY, Abilities, Family, Update, apply_net


def small_eval(config, idx_dir: Path):
    """Point config at the synthetic IDX data and shrink every evaluation size."""
    config.data.source, config.data.idx_dir = "idx", str(idx_dir)
    config.eval.num_samples = 40
    config.eval.kid_subsets, config.eval.kid_subset_size = 5, 16
    config.eval.probe_steps = 20
    config.eval.embed_points = 32
    return config


# ----------------------------------------------------------------------------------------- extractor


def test_packaged_extractor_matches_its_record():
    extractor = features.load_extractor()
    assert extractor.sha256 == extractor.info["sha256"] == features.file_sha256(features.ASSET)
    images = np.zeros((3, 32, 32, 1), np.uint8)
    feats, probs = features.extract(extractor, images)
    assert feats.shape == (3, extractor.info["feature_dim"]) and probs.shape == (3, 10)
    np.testing.assert_allclose(np.asarray(probs).sum(1), 1.0, rtol=1e-5)


def test_altered_extractor_weights_are_refused(tmp_path):
    for suffix in (".npz", ".json"):
        shutil.copy(features.ASSET.with_suffix(suffix), tmp_path / f"x{suffix}")
    raw = bytearray((tmp_path / "x.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "x.npz").write_bytes(bytes(raw))
    with pytest.raises(features.ExtractorError, match="sha256 .* records .* python -m jaxgen.features"):
        features.load_extractor(tmp_path / "x.npz")
    with pytest.raises(features.ExtractorError, match="no feature extractor"):
        features.load_extractor(tmp_path / "missing.npz")


def test_weights_file_is_byte_deterministic_and_round_trips(tmp_path):
    extractor = features.load_extractor()
    first = features.write_weights(tmp_path / "a.npz", jax.device_get(extractor.variables))
    second = features.write_weights(tmp_path / "b.npz", jax.device_get(extractor.variables))
    assert first == second == extractor.sha256  # the packaged file is exactly what write_weights writes


def test_build_is_deterministic_from_the_seed(tmp_path, idx_dir):
    """The build command's path end to end on a tiny config: two fresh builds write identical bytes."""
    config_file = tmp_path / "tiny_extractor.py"
    config_file.write_text(
        "from jaxgen.config import base_config\n\n\n"
        "def get_config():\n"
        "    c = base_config('classifier', model={'width': 4})\n"
        f"    c.data.source, c.data.idx_dir = 'idx', {str(idx_dir)!r}\n"
        "    c.train.batch_size, c.train.num_steps, c.train.log_every = 8, 3, 1\n"
        "    return c\n"
    )
    infos = [
        features.main(["--workdir", str(tmp_path / name), "--config", str(config_file), "--output",
                       str(tmp_path / name / "weights.npz")])
        for name in ("first", "second")
    ]  # fmt: skip
    assert infos == [0, 0]
    records = [json.loads((tmp_path / n / "weights.json").read_text()) for n in ("first", "second")]
    assert records[0]["sha256"] == records[1]["sha256"]
    assert records[0]["width"] == 4 and records[0]["steps"] == 3 and records[0]["feature_dim"] == 2 * 2 * 32
    extractor = features.load_extractor(tmp_path / "first" / "weights.npz")
    assert extractor.sha256 == records[0]["sha256"]


def test_extractor_rejects_images_it_cannot_read():
    extractor = features.load_extractor()
    with pytest.raises(features.ExtractorError, match=r"needs \[N, 32, 32, 1\]"):
        features.extract(extractor, np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(features.ExtractorError, match=r"expected \[0, 1\]"):
        features.extract(extractor, np.full((2, 32, 32, 1), -1.0, np.float32))


def test_features_do_not_depend_on_the_evaluation_batch_size():
    extractor = features.load_extractor()
    images = synthetic_arrays(n_train=50, n_test=1)["train_images"]
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None]
    whole_f, whole_p = features.extract(extractor, images, chunk=50)
    for chunk in (7, 16):
        f, p = features.extract(extractor, images, chunk=chunk)
        np.testing.assert_allclose(f, whole_f, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(p, whole_p, rtol=1e-5, atol=1e-6)


def test_packaged_extractor_reproduces_its_recorded_mnist_accuracy():
    """Real MNIST from the package-index mirror; a different machine may flip a few borderline digits."""
    from jaxgen.config import base_config

    dataset = load_dataset(base_config().data)
    extractor = features.load_extractor()
    _, probs = features.extract(extractor, dataset.test_images)
    accuracy = float(np.mean(np.argmax(np.asarray(probs), 1) == dataset.test_labels))
    assert accuracy == pytest.approx(extractor.info["test_accuracy"], abs=3e-4)
    assert accuracy > 0.99


# ----------------------------------------------------------------------------------------- eval mode


def test_gan_eval_report_has_samples_beside_the_real_floor(tmp_path, idx_dir):
    config = small_eval(tiny_config("gan"), idx_dir)
    dataset = load_dataset(config.data)
    train_lib.train(config, tmp_path, dataset=dataset)
    report = evaluate_lib.evaluate(config, tmp_path)
    assert json.loads((tmp_path / "eval.json").read_text()) == report
    wall = report["source"].pop("train_wall_s")  # the training time of the time-to-quality card
    assert 0 < wall < 600
    assert report["source"] == {"model": "gan", "step": 2, "workdir": str(tmp_path)}
    assert report["extractor"]["sha256"] == features.load_extractor().sha256
    for part in ("samples", "real_floor"):
        scores = report[part]
        assert scores["num_images"] == 40
        assert {
            "fid",
            "kid",
            "kid_std",
            "mnist_score",
            "precision",
            "recall",
            "class_entropy",
        } <= scores.keys()
        assert np.isfinite(scores["fid"]) and 1.0 <= scores["mnist_score"] <= 10.0
        assert len(scores["class_histogram"]) == 10
    # an untrained generator is far from the digits; real train images are close to the test set
    assert report["samples"]["fid"] > report["real_floor"]["fid"]
    assert "label_accuracy" not in report["samples"] and "label_accuracy" in report["real_floor"]

    other = config.copy_and_resolve_references()
    other.eval.chunk = 7  # evaluation batch size: nothing may depend on it
    again = evaluate_lib.evaluate(other, tmp_path)
    for part in ("samples", "real_floor"):
        for name in ("fid", "kid", "mnist_score", "precision", "recall"):
            assert again[part][name] == pytest.approx(report[part][name], rel=1e-4, abs=1e-6), (part, name)


def test_autoencoder_eval_reports_reconstruction_and_code_quality(tmp_path, idx_dir):
    config = small_eval(tiny_config("ae"), idx_dir)
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    model = evaluate_lib.evaluate(config, tmp_path)["model"]
    assert {"test_mse", "test_bce", "code_dim", "knn5_accuracy", "linear_probe_accuracy"} <= model.keys()
    assert model["code_dim"] == 8 and 0.0 <= model["knn5_accuracy"] <= 1.0
    assert 0.0 < model["test_mse"] < 1.0


def test_a_samples_file_is_scored_with_its_labels(tmp_path, idx_dir):
    config = small_eval(tiny_config("gan"), idx_dir)
    dataset = load_dataset(config.data)
    images = dataset.test_images.astype(np.float32) / 255.0
    labels = dataset.test_labels.copy()
    labels[:8] = (labels[:8] + 1) % 10  # 8 of 32 requested labels disagree with the image
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    report = evaluate_lib.evaluate(config, tmp_path, path)
    assert (tmp_path / "eval_mine.json").exists() and "model" not in report
    extractor = features.load_extractor()
    _, probs = features.extract(extractor, images)
    expected = np.mean(np.argmax(np.asarray(probs), 1) == labels)
    assert report["samples"]["label_accuracy"] == pytest.approx(expected)
    assert report["samples"]["num_images"] == 32 == report["real_floor"]["num_images"]

    np.savez(tmp_path / "bad.npz", pictures=images)
    with pytest.raises(evaluate_lib.SamplesError, match="expected an 'images' array"):
        evaluate_lib.evaluate(config, tmp_path, tmp_path / "bad.npz")


def _bernoulli_family(model, setup):
    """Toy likelihood model: z ~ N(0, 1), every pixel ~ Bernoulli(sigmoid(z + b)), proposal = prior."""
    net = ScalarParam(0.0)

    def loss(params, state, batch, key):
        b, state = apply_net(net, "net", params, state, batch["image"], train=True)
        return b**2, ({}, state)

    def log_weights(params, state, x, key, n):
        b, _ = apply_net(net, "net", params, state, x, train=False)
        z = jax.random.normal(key, (x.shape[0], n))
        ones = jnp.sum(x, axis=(1, 2, 3))[:, None]
        size = np.prod(x.shape[1:])
        # log p(x | z); log p(z) - log q(z) = 0 for the prior proposal
        return ones * jax.nn.log_sigmoid(z + b) + (size - ones) * jax.nn.log_sigmoid(-(z + b))

    return Family(
        networks={"net": net},
        example_inputs={"net": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"net": setup.optimizer},
        updates=(Update("toy", ("net",), loss),),
        can=Abilities(log_weights=log_weights, binary_data=model.binarize),
    )


def test_likelihood_bounds_of_a_family_with_importance_weights(tmp_path, idx_dir, monkeypatch, capsys):
    monkeypatch.setitem(REGISTRY, "bernoulli_test", toy_spec(_bernoulli_family, binarize=False))
    config = small_eval(tiny_config("bernoulli_test"), idx_dir)
    config.eval.iwae_k, config.eval.iwae_chunk = 64, 16
    config.model.binarize = True  # a Bernoulli model: its bounds are scored on binarised images
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    model = evaluate_lib.evaluate(config, tmp_path)["model"]
    assert model["likelihood_images"] == 32 and model["iwae_k"] == 64
    assert model["elbo"] < model["iwae_bound"] < 0 and model["nll_iwae"] == pytest.approx(
        -model["iwae_bound"]
    )
    assert 0.0 < model["nll_iwae_sem"] < model["nll_iwae"]

    family, ts = runtime.restore_model(config, tmp_path)
    dataset = load_dataset(config.data)
    whole = evaluate_lib.likelihood(config, dataset, ts, jax.random.key(2))
    monkeypatch.setattr(evaluate_lib, "LIKELIHOOD_PASSES", 64)  # 4 images per compiled iteration,
    monkeypatch.setattr(evaluate_lib, "LIKELIHOOD_BLOCK", 8)  # 8 per call, a progress line after each
    blocked = evaluate_lib.likelihood(config, dataset, ts, jax.random.key(2))
    assert blocked["nll_iwae"] == pytest.approx(whole["nll_iwae"], rel=1e-6)
    assert blocked["elbo"] == pytest.approx(whole["elbo"], rel=1e-6)
    assert "ELBO and IWAE bound (k=64): 32/32 images" in capsys.readouterr().err

    binary = metrics.dynamic_binarize(jax.random.key(0), jnp.full((10, 32, 32, 1), 0.3))
    args = (family, ts["params"], ts["state"], binary, jax.random.key(1), 0, 64, 16)
    by_3, by_10 = evaluate_lib._bounds(*args, 3), evaluate_lib._bounds(*args, 10)
    np.testing.assert_allclose(by_3[1], by_10[1], rtol=1e-6)  # per-image draws: chunking does not matter
    np.testing.assert_allclose(by_3[0], by_10[0], rtol=1e-6)
    # in blocks (images 4.. as a second call starting at 4): the same draws for every image
    head, tail = (
        evaluate_lib._bounds(family, ts["params"], ts["state"], part, jax.random.key(1), first, 64, 16, 2)
        for part, first in ((binary[:4], 0), (binary[4:], 4))
    )
    np.testing.assert_allclose(np.concatenate([head[1], tail[1]]), by_10[1], rtol=1e-6)


def test_bounds_on_bfloat16_operands_track_float32_and_say_which_they_used(tmp_path, idx_dir):
    config = small_eval(tiny_config("vae", num_steps=30), idx_dir)
    config.model.arch, config.model.crop = "mlp", 2
    config.eval.iwae_k, config.eval.iwae_chunk, config.eval.likelihood_images = 64, 32, 16
    dataset = load_dataset(config.data)
    train_lib.train(config, tmp_path, dataset=dataset)
    _, ts = runtime.restore_model(config, tmp_path, dataset)
    reports = {}
    for dtype in ("float32", "bfloat16"):
        config.eval.likelihood_dtype = dtype
        reports[dtype] = evaluate_lib.likelihood(config, dataset, ts, jax.random.key(3))
        assert reports[dtype]["likelihood_dtype"] == dtype
    exact, fast = reports["float32"], reports["bfloat16"]
    assert fast["nll_iwae"] != exact["nll_iwae"]  # the products did run on bfloat16 operands
    # same images, same draws: only the operands' rounding differs (~480 nats here; 2e-4 apart when written)
    assert fast["nll_iwae"] == pytest.approx(exact["nll_iwae"], abs=0.01)
    assert fast["elbo"] == pytest.approx(exact["elbo"], abs=0.01)


def test_eval_and_viz_from_the_command_line(tmp_path, idx_dir):
    overrides = [
        "--config.model.width=4", "--config.train.batch_size=8", "--config.train.num_steps=24",
        "--config.train.log_every=4", "--config.train.eval_every=12", "--config.data.source=idx",
        f"--config.data.idx_dir={idx_dir}", "--config.eval.num_samples=40", "--config.eval.kid_subsets=4",
        "--config.eval.kid_subset_size=16", "--config.eval.probe_steps=10", "--config.eval.embed_points=32",
    ]  # fmt: skip
    base = [sys.executable, "-m", "jaxgen.main", "--config=configs/classifier.py", f"--workdir={tmp_path}"]

    def run(*extra):
        return subprocess.run(
            [*base, *overrides, *extra], cwd=REPO, capture_output=True, text=True, timeout=600
        )

    missing = run("--mode=eval")
    assert missing.returncode == 2 and "no checkpoint in" in missing.stderr
    assert run().returncode == 0
    done = run("--mode=eval")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FID-MNIST" in done.stderr and "real floor" in done.stderr
    report = json.loads((tmp_path / "eval.json").read_text())
    assert {"test_accuracy", "knn5_accuracy", "linear_probe_accuracy"} <= report["model"].keys()

    viz = run("--mode=viz")
    assert viz.returncode == 0, viz.stderr[-3000:]
    for name in ("pixels_pca_tsne.png", "codes.png", "accuracy_curves.png"):
        assert (tmp_path / "figures" / name).stat().st_size > 5000, name

    wrong = run("--mode=train", f"--samples={tmp_path / 'x.npz'}")
    assert wrong.returncode == 2 and "--samples is read by --mode=eval only" in wrong.stderr


def test_feature_metrics_are_skipped_for_data_the_extractor_cannot_judge():
    from conftest import synthetic_dataset

    config = tiny_config("gan")
    config.data.name = "fashion_mnist"
    report = evaluate_lib.feature_metrics(synthetic_dataset(), None, None, config, jax.random.key(0))
    assert report == {
        "feature_metrics": "skipped: the feature extractor is an MNIST classifier (32x32x1 digits)"
    }


def test_mnist_at_28_pixels_is_scored_padded_to_32_as_the_data_loader_pads_it(tmp_path, idx_dir):
    """A model trained at data.image_size=28 gets the feature metrics of the same digits at 32."""
    config = small_eval(tiny_config("gan"), idx_dir)
    reports = {}
    for size in (28, 32):
        config.data.image_size = size
        dataset = load_dataset(config.data)
        images = dataset.test_images[:20]
        reports[size] = evaluate_lib.feature_metrics(dataset, images, None, config, jax.random.key(0))
    for part in ("samples", "real_floor"):
        for name in ("fid", "kid", "precision", "recall", "class_entropy"):
            assert reports[28][part][name] == pytest.approx(reports[32][part][name], abs=1e-4), (part, name)
    config.data.image_size = 36  # larger than the extractor's input: skipped, not cropped
    report = evaluate_lib.feature_metrics(load_dataset(config.data), None, None, config, jax.random.key(0))
    assert report["feature_metrics"].startswith("skipped")


def test_two_dimensional_codes_are_plotted_as_they_are_and_wider_ones_embedded():
    from jaxgen.embed import embedding_panels

    flat = np.random.default_rng(0).normal(size=(60, 2))
    panels = embedding_panels(flat, seed=0)
    assert list(panels) == ["codes (2-D latent)"]
    np.testing.assert_array_equal(panels["codes (2-D latent)"], flat)
    wide = np.random.default_rng(0).normal(size=(60, 8))
    panels = embedding_panels(wide, seed=0)
    assert list(panels) == ["PCA", "t-SNE"] and all(p.shape == (60, 2) for p in panels.values())
    pca = panels["PCA"]
    assert np.var(pca[:, 0]) >= np.var(pca[:, 1])  # components in order of explained variance


def test_manifold_grid_covers_the_code_space_row_major_from_the_top_left():
    from scipy.stats import norm

    from jaxgen.embed import manifold_codes

    grid = manifold_codes("gaussian", np.zeros((1, 2)), n=5)
    assert grid.shape == (25, 2)
    np.testing.assert_allclose(grid[:5, 0], norm.ppf(np.linspace(0.05, 0.95, 5)), rtol=1e-6)  # x along a row
    assert np.all(grid[:5, 1] == grid[0, 1]) and grid[0, 1] > grid[-1, 1]  # the first row is the top
    box = manifold_codes("unit_box", np.zeros((1, 2)), n=4)
    assert 0.0 < box.min() and box.max() < 1.0
    codes = np.random.default_rng(0).normal(size=(500, 2)) * [1.0, 10.0]
    data = manifold_codes("data", codes, n=3)
    np.testing.assert_allclose(data[:, 1].max(), np.percentile(codes[:, 1], 99), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown code space"):
        manifold_codes("sphere", codes)


def test_viz_of_a_two_dimensional_vae_draws_its_manifold(tmp_path, idx_dir):
    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("vae"), idx_dir)
    config.model.arch, config.model.latent_dim, config.model.hidden, config.model.crop = "mlp", 2, 16, 2
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert written == {
        "pixels_pca_tsne.png",
        "codes.png",
        "manifold.png",
        "interpolation.gif",
        "interpolation.png",
    }
    from PIL import Image

    gif = Image.open(tmp_path / "figures" / "interpolation.gif")
    assert gif.n_frames == 2 * INTERPOLATION_STEPS - 2  # there and back, ends not repeated


def test_viz_of_a_denoising_linear_autoencoder_draws_restorations_and_its_matrix(tmp_path, idx_dir):
    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("ae"), idx_dir)
    config.model.arch, config.model.latent_dim, config.model.crop = "linear", 784, 2
    config.model.input_dropout = 0.3
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert {"denoising.png", "matrices.png", "interpolation.gif"} <= written
    assert "manifold.png" not in written  # 784-d codes
    fit = json.loads((tmp_path / "figures" / "matrices.json").read_text())["W2·W1"]
    assert fit["pixels"] == 784 and fit["data_span_dimension"] + fit["pixels_never_lit"] <= 784


def test_interpolation_starts_and_ends_at_the_reconstructions():
    from jaxgen.embed import interpolation_frames

    config = tiny_config("ae")
    config.model.arch, config.model.hidden, config.model.crop = (
        "mlp",
        16,
        2,
    )  # init codes vary (DCGAN's ~1e-5)
    family = runtime.build_family(config)
    ts = runtime.init_state(family, jax.random.key(0))
    a, b = (jax.random.uniform(jax.random.key(i), (3, 32, 32, 1)) for i in (1, 2))
    frames = interpolation_frames(family, ts["params"], ts["state"], a, b, steps=5)
    assert frames.shape == (5, 3, 32, 32, 1)
    np.testing.assert_allclose(frames[0], family.can.reconstruct(ts["params"], ts["state"], a), atol=1e-5)
    np.testing.assert_allclose(frames[-1], family.can.reconstruct(ts["params"], ts["state"], b), atol=1e-5)
    middle = family.can.decode(
        ts["params"],
        ts["state"],
        0.5
        * (family.can.encode(ts["params"], ts["state"], a) + family.can.encode(ts["params"], ts["state"], b)),
    )
    assert not np.allclose(frames[2], frames[0]) and np.allclose(frames[2], middle, atol=1e-5)


def test_infogan_eval_scores_its_clusters_and_viz_draws_its_sweeps(tmp_path, idx_dir):
    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("infogan"), idx_dir)
    dataset = load_dataset(config.data)
    train_lib.train(config, tmp_path, dataset=dataset)
    family, ts = runtime.restore_model(config, tmp_path)
    model = evaluate_lib.model_metrics(family, ts, dataset, config, jax.random.key(0))
    clusters = np.asarray(
        evaluate_lib.cluster_images(family, ts["params"], ts["state"], jnp.asarray(dataset.test_images), 500)
    )
    expected, _ = metrics.cluster_accuracy(clusters, dataset.test_labels)
    assert model["cluster_accuracy"] == pytest.approx(expected)
    assert model["cluster_error"] == pytest.approx(1 - expected)
    assert sorted(model["cluster_to_digit"]) == list(range(10))
    counts = np.array(model["cluster_counts"])
    np.testing.assert_array_equal(counts.sum(1), np.bincount(dataset.test_labels, minlength=10))
    np.testing.assert_array_equal(counts.sum(0), np.bincount(clusters, minlength=10))
    matched = sum(counts[digit, cluster] for cluster, digit in enumerate(model["cluster_to_digit"]))
    assert matched == pytest.approx(expected * len(clusters))
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert {"sweep_category.png", "sweep_continuous_1.png", "sweep_continuous_2.png", "codes.png"} <= written


def test_conditional_viz_draws_the_digit_grid(tmp_path, idx_dir):
    from jaxgen.embed import draw_figures

    config = small_eval(tiny_config("acgan"), idx_dir)
    train_lib.train(config, tmp_path, dataset=load_dataset(config.data))
    written = {p.name for p in draw_figures(config, tmp_path)}
    assert "sweep_digits.png" in written
    assert (tmp_path / "figures" / "sweep_digits.png").stat().st_size > 2000
