"""`--mode=eval`: score a trained model, or a file of samples, with jaxgen.metrics.

Generated images are compared with the MNIST test set in the feature space of the packaged classifier;
beside every figure stands the real-vs-real floor: as many training images, scored the same way. A
model's own metrics (test accuracy or reconstruction error, k-NN / linear-probe accuracy of its codes,
ELBO and IWAE bound) come from the hooks its family declares. Writes eval.json (eval_<name>.json for a
samples file) and prints a table.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import features as features_lib
from jaxgen import metrics, runtime
from jaxgen.data import Dataset, domains, feeds, load_dataset, pad_to, to_float
from jaxgen.metric_writer import wall_time_at
from jaxgen.models import Family
from jaxgen.workdir import check_usable


class SamplesError(ValueError):
    """A samples file that cannot be scored."""


def load_samples(path: Path) -> dict[str, np.ndarray]:
    """images [N, H, W, C] (float in [0, 1] or uint8) and optional labels [N] from an .npz (no pickle)."""
    if not path.exists():
        raise FileNotFoundError(f"no samples file {path}; write one with --mode=sample")
    with np.load(path, allow_pickle=False) as f:
        if "images" not in f.files:
            raise SamplesError(f"{path} holds {f.files}; expected an 'images' array (and optional 'labels')")
        out = {"images": f["images"]}
        if "labels" in f.files:
            out["labels"] = f["labels"].astype(np.int32)
    if out["images"].ndim != 4:
        raise SamplesError(f"{path}: images have shape {out['images'].shape}; expected [N, H, W, C]")
    return out


# ----------------------------------------------------------------------------------------- pieces


@functools.partial(jax.jit, static_argnums=(0, 4))
def encode_images(family: Family, params, state, images, chunk: int) -> jax.Array:
    """Codes [N, D] of uint8 images, chunk at a time."""
    return metrics.map_chunks(lambda x: family.can.encode(params, state, to_float(x)), images, chunk)


def sample_quality(
    extractor: features_lib.Extractor,
    real_features: jax.Array,
    images,
    labels,
    config: ml_collections.ConfigDict,
    key: jax.Array,
) -> dict:
    """FID, KID, MNIST score, precision/recall and class histogram of images against real features."""
    fake_features, fake_probs = features_lib.extract(extractor, images, config.eval.chunk)
    kid_mean, kid_std = metrics.kid(
        real_features,
        fake_features,
        key,
        num_subsets=config.eval.kid_subsets,
        size=config.eval.kid_subset_size,
    )
    score_mean, score_std = metrics.classifier_score(fake_probs)
    histogram, entropy = metrics.class_histogram(fake_probs)
    out = {
        "num_images": int(fake_features.shape[0]),
        "fid": metrics.fid(real_features, fake_features),
        "kid": float(kid_mean),
        "kid_std": float(kid_std),
        "mnist_score": float(score_mean),
        "mnist_score_std": float(score_std),
        **metrics.precision_recall(real_features, fake_features, config.eval.pr_k),
        "class_entropy": float(entropy),
        "class_histogram": [round(float(h), 4) for h in histogram],
    }
    if labels is not None:
        out["label_accuracy"] = float(metrics.label_accuracy(fake_probs, jnp.asarray(labels)))
    return out


def code_quality(
    family: Family, ts: dict, dataset: Dataset, config: ml_collections.ConfigDict, key: jax.Array
) -> dict:
    """k-NN and linear-probe test accuracy of the family's codes (fitted on all training codes); for codes
    pushed to a prior, their distance from it (jaxgen.metrics.prior_distance)."""
    chunk = config.eval.chunk
    train_codes = encode_images(family, ts["params"], ts["state"], jnp.asarray(dataset.train_images), chunk)
    test_codes = encode_images(family, ts["params"], ts["state"], jnp.asarray(dataset.test_images), chunk)
    train_y, test_y = jnp.asarray(dataset.train_labels), jnp.asarray(dataset.test_labels)
    return {
        "code_dim": int(train_codes.shape[1]),
        f"knn{config.eval.knn_k}_accuracy": metrics.knn_accuracy(
            train_codes, train_y, test_codes, test_y, config.eval.knn_k
        ),
        "linear_probe_accuracy": metrics.linear_probe_accuracy(
            train_codes, train_y, test_codes, test_y, config.eval.probe_l2, config.eval.probe_steps
        ),
        "code_abs_mean": float(jnp.mean(jnp.abs(test_codes))),
        "code_near_zero_fraction": metrics.near_zero_fraction(test_codes),
        **gaussian_code_fit(family, test_codes, dataset.test_labels),
        **(prior_fit(family.can.prior, key, test_codes, test_y) if family.can.prior else {}),
    }


def prior_fit(prior, key: jax.Array, codes: jax.Array, labels: jax.Array) -> dict:
    """metrics.prior_distance of codes [N, D] from their prior; a prior split by label is drawn at the
    codes' own labels [N]. (Drawn with equal parts instead, a perfect fit of MNIST's test set, whose digits
    are 8.9-11.4% of it, scored 1.76x the floor on the swiss roll and 2.66x on the mixture in one draw.)"""
    if prior.draw_given is None:
        return metrics.prior_distance(key, codes, prior.draw)
    return metrics.prior_distance(key, codes, lambda k, n: prior.draw_given(k, labels))


def gaussian_code_fit(family: Family, codes, labels) -> dict:
    """For codes meant to be N(0, I) (family.can.code_space 'gaussian'): their per-dimension KS fit,
    overall and per digit (jaxgen.metrics.gaussian_fit)."""
    if family.can.code_space != "gaussian":
        return {}
    fit = metrics.gaussian_fit(np.asarray(codes), np.asarray(labels))
    return {f"code_{name}": value for name, value in fit.items()}


def bounds_family(config: ml_collections.ConfigDict, dataset: Dataset) -> Family:
    """The configured family with its products in eval.likelihood_dtype, whatever the run trained in: the
    same parameters; bfloat16 operands (accumulating in float32) halve the bounds' time on a CPU with bf16
    units and move the nats by far less than their seed-to-seed spread (measured in the README)."""
    config = config.copy_and_resolve_references()
    config.runtime.compute_dtype = config.eval.likelihood_dtype
    return runtime.build_family(config, dataset)


LIKELIHOOD_PASSES = 5000  # decoder passes per compiled iteration of the bounds (bounds memory)
LIKELIHOOD_BLOCK = 1000  # images per call of the compiled bounds: a progress line after each


def likelihood(config: ml_collections.ConfigDict, dataset: Dataset, ts: dict, key: jax.Array) -> dict:
    """Test ELBO and IWAE bound (nats) on dynamically binarised images, as Burda et al. 2015 (on the grey
    levels themselves for a model trained on them: a density, not comparable with binary nats), with the
    products in eval.likelihood_dtype."""
    family, images = bounds_family(config, dataset), dataset.test_images
    if config.eval.likelihood_images:
        images = images[: config.eval.likelihood_images]
    k, k_chunk = config.eval.iwae_k, config.eval.iwae_chunk
    binary = to_float(jnp.asarray(images))
    if family.can.binary_data:
        binary = metrics.dynamic_binarize(jax.random.fold_in(key, 0), binary)
    n = binary.shape[0]
    image_chunk = max(1, min(LIKELIHOOD_PASSES // k_chunk, n))
    block = max(1, LIKELIHOOD_BLOCK // image_chunk) * image_chunk
    draw_key = jax.random.fold_in(key, 1)
    parts, started = [], time.perf_counter()
    for first in range(0, n, block):
        rows = binary[first : first + block]
        parts.append(
            _bounds(family, ts["params"], ts["state"], rows, draw_key, first, k, k_chunk, image_chunk)
        )
        if n > block:
            jax.block_until_ready(parts[-1])
            done = first + rows.shape[0]
            runtime.log(
                f"ELBO and IWAE bound (k={k}): {done}/{n} images, {time.perf_counter() - started:.0f} s"
            )
    elbo, iwae = (jnp.concatenate(bound) for bound in zip(*parts, strict=True))
    return {
        "likelihood_images": n,
        "likelihood_dtype": config.eval.likelihood_dtype,
        "likelihood_data": "dynamically binarised" if family.can.binary_data else "grey levels (a density)",
        "elbo": float(jnp.mean(elbo)),
        "iwae_k": k,
        "iwae_bound": float(jnp.mean(iwae)),
        "nll_iwae": float(-jnp.mean(iwae)),
        # standard error of that mean over the images: the uncertainty of a subset's number
        "nll_iwae_sem": float(jnp.std(iwae) / jnp.sqrt(iwae.shape[0])),
    }


@functools.partial(jax.jit, static_argnums=(0, 6, 7, 8))
def _bounds(family, params, state, binary, key, first, k, k_chunk, image_chunk):
    """Per-image (ELBO, IWAE) [N] of images first, first + 1, ...; image i's draws come from fold_in(key, i),
    whatever the chunking or the blocks."""

    def log_weights(images, draw_key, n):
        return family.can.log_weights(params, state, images, draw_key, n)

    def per_image(x, index):
        elbo, iwae = metrics.importance_bounds(
            log_weights, x[None], jax.random.fold_in(key, index), k, k_chunk
        )
        return elbo[0], iwae[0]

    rows = (binary, first + jnp.arange(binary.shape[0]))
    return metrics.map_chunks(lambda chunk: jax.vmap(per_image)(*chunk), rows, image_chunk)


# ----------------------------------------------------------------------------------------- the report


def evaluate(
    config: ml_collections.ConfigDict, workdir: str | Path, samples_path: str | Path | None = None
) -> dict:
    """Score the newest checkpoint in workdir (or the samples file); write the JSON report and return it."""
    workdir = Path(workdir)
    check_usable(workdir, create=False)
    runtime.prepare_backend(config)
    started = time.perf_counter()
    dataset = load_dataset(config.data)
    key = jax.random.key(config.eval.seed)
    report: dict = {"dataset": config.data.name}
    images = labels = None
    if samples_path is not None:
        samples_path = Path(samples_path)
        loaded = load_samples(samples_path)
        images, labels = loaded["images"], loaded.get("labels")
        report["source"] = {"samples": str(samples_path)}
        out_path = workdir / f"eval_{samples_path.stem}.json"
    else:
        family, ts = runtime.restore_model(config, workdir, dataset)
        step = int(ts["step"])
        report["source"] = {"model": config.model.name, "step": step, "workdir": str(workdir)}
        wall_s = wall_time_at(workdir, step)
        if wall_s is not None:  # the time-to-quality card's training time
            report["source"]["train_wall_s"] = round(wall_s, 1)
        report["model"] = model_metrics(family, ts, dataset, config, jax.random.fold_in(key, 0))
        if family.can.sample is not None:
            drawn = runtime.draw_many(family, ts, jax.random.fold_in(key, 1), config.eval.num_samples)
            images, labels = drawn["images"], drawn.get("labels")
            if "images_b" in drawn:  # pairs drawn in two domains from one noise vector (CoGAN)
                report["model"].update(pair_quality(images, drawn["images_b"], config))
        out_path = workdir / "eval.json"

    report.update(feature_metrics(dataset, images, labels, config, jax.random.fold_in(key, 2)))
    report["seconds"] = round(time.perf_counter() - started, 1)
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    print(format_table(report), file=sys.stderr)
    runtime.log(f"wrote {out_path}")
    return report


def model_metrics(family: Family, ts: dict, dataset: Dataset, config, key: jax.Array) -> dict:
    """Whatever the family's hooks allow: test metrics, code quality, likelihood bounds."""
    arrays = feeds.device_arrays(family.data, dataset)
    results = runtime.evaluate_split(family, ts, arrays, config.eval.chunk, dataset.aligned_b)
    out = {f"test_{name}": float(v) for name, v in results.items()}
    if family.can.encode is not None:
        out.update(code_quality(family, ts, dataset, config, jax.random.fold_in(key, 1)))
    if family.can.log_weights is not None:
        out.update(likelihood(config, dataset, ts, key))
    if family.can.translate is not None:
        out.update(translation_quality(family, ts, dataset, config))
    if family.can.cluster is not None:
        test_images = jnp.asarray(dataset.test_images)
        clusters = cluster_images(family, ts["params"], ts["state"], test_images, config.eval.chunk)
        accuracy, mapping = metrics.cluster_accuracy(clusters, dataset.test_labels)
        out.update(
            {
                "cluster_accuracy": accuracy,
                "cluster_error": 1.0 - accuracy,
                "cluster_to_digit": mapping,
                # which digits share a cluster (rows: the true digit; columns: the cluster)
                "cluster_counts": metrics.contingency(dataset.test_labels, np.asarray(clusters)).tolist(),
            }
        )
    return out


def domain_labels(data: ml_collections.ConfigDict) -> tuple[str, str]:
    """How reports name domains A and B: the transforms, with their datasets when B has its own."""
    if not data.name_b:
        return data.domain_a, data.domain_b
    return f"{data.name} {data.domain_a}", f"{data.name_b} {data.domain_b}"


def translation_quality(family: Family, ts: dict, dataset: Dataset, config) -> dict:
    """Each direction the family translates, on the whole test split: L1 and SSIM to the true transform of
    each input (when the domains are aligned: B is a transform of A's images), and, where the target
    domain has a packaged digit classifier (jaxgen.features: MNIST digits in each derived domain), the digit
    preservation (the target-domain classifier reads the input's digit on the output) and the FID in the
    target domain (that classifier's features of the outputs vs of the target domain's test images)."""
    data, second = config.data, dataset.second
    label_a, label_b = domain_labels(data)
    a = (dataset, data.name, data.domain_a, label_a)
    b = (second, data.name_b or data.name, data.domain_b, label_b)
    directions = [("ab", "translate", a, b)]
    if family.can.translate_back is not None:
        directions.append(("ba", "translate_back", b, a))
    out = {}
    for tag, ability, source, target in directions:
        (inputs, _, _, source_label), (outputs, target_name, target_domain, target_label) = source, target
        out[f"translation_{tag}_domains"] = f"{source_label} → {target_label}"
        made = translate_images(
            family, ability, ts["params"], ts["state"], jnp.asarray(inputs.test_images), config.eval.chunk
        )
        if second.aligned:
            truth = to_float(jnp.asarray(outputs.test_images))
            out[f"translation_{tag}_l1"] = float(jnp.mean(jnp.abs(made - truth)))
            out[f"translation_{tag}_ssim"] = float(jnp.mean(metrics.ssim(made, truth)))
        if target_name != "mnist":
            out[f"translation_{tag}_digits"] = (
                f"skipped: no packaged digit classifier of {target_name} (they are of MNIST digits)"
            )
            continue
        try:
            extractor = features_lib.load_extractor(domain=target_domain)
        except features_lib.ExtractorError as e:
            out[f"translation_{tag}_digits"] = f"skipped: {e}"
            continue
        made_features, made_probs = features_lib.extract(extractor, made, config.eval.chunk)
        true_features, _ = features_lib.extract(extractor, outputs.test_images, config.eval.chunk)
        labels = jnp.asarray(inputs.test_labels)
        out[f"translation_{tag}_digit_preservation"] = float(metrics.label_accuracy(made_probs, labels))
        # which digits are lost: rows the input's digit, columns the digit read on the translation
        confusion = metrics.contingency(inputs.test_labels, np.asarray(jnp.argmax(made_probs, -1)))
        out[f"translation_{tag}_confusion"] = confusion.tolist()
        out[f"translation_{tag}_misreads"] = metrics.largest_misreads(confusion)
        out[f"translation_{tag}_fid"] = metrics.fid(true_features, made_features)
        out[f"translation_{tag}_classifier"] = {
            "domain": target_domain,
            "sha256": extractor.sha256,
            "test_accuracy": extractor.info.get("test_accuracy"),
        }
    return out


PAIR_THRESHOLD = 0.5  # pixels are on above it, for the pixel agreement of pairs


def pair_quality(images_a: np.ndarray, images_b: np.ndarray, config) -> dict:
    """Pairs generated in domains A and B from shared noise (CoGAN, Liu & Tuzel 2016): the paper's average
    pixel agreement ratio between B and the true transform of A into B (pixels on above PAIR_THRESHOLD, on
    the MNIST digit's 28x28 area), and the fraction of pairs whose two images each domain's classifier reads
    as the same digit."""
    a, b = config.data.domain_a, config.data.domain_b
    label_a, label_b = domain_labels(config.data)
    out = {"pairs": len(images_a), "pair_domains": f"{label_a} → {label_b}"}
    if config.data.name_b:  # domain B is another dataset: no transform of A to compare B with
        return {**out, "pair_pixel_agreement": "skipped: domain B is another dataset (data.name_b)"}
    crop = (images_a.shape[1] - 28) // 2 if config.data.name == "mnist" else 0
    if images_b.shape[-1] == 1:  # grey domains: the agreement of binarised pixels
        as_uint8 = np.round(np.clip(images_a, 0, 1) * 255).astype(np.uint8)
        transformed = domains.derive(b, as_uint8) / 255.0
        area = (slice(None), slice(crop, images_a.shape[1] - crop), slice(crop, images_a.shape[2] - crop))
        agree = (transformed[area] > PAIR_THRESHOLD) == (images_b[area] > PAIR_THRESHOLD)
        out["pair_pixel_agreement"] = float(np.mean(agree))
    if config.data.name != "mnist":
        return out
    try:
        readers = [features_lib.load_extractor(domain=d) for d in (a, b)]
    except features_lib.ExtractorError as e:
        return {**out, "pair_digit_agreement": f"skipped: {e}"}
    digits = [
        np.argmax(np.asarray(features_lib.extract(reader, images, config.eval.chunk)[1]), -1)
        for reader, images in zip(readers, (images_a, images_b), strict=True)
    ]
    out["pair_digit_agreement"] = float(np.mean(digits[0] == digits[1]))
    return out


@functools.partial(jax.jit, static_argnums=(0, 1, 5))
def translate_images(family: Family, ability: str, params, state, images, chunk: int) -> jax.Array:
    """family.can.<ability> of uint8 images, chunk at a time (float outputs in [0, 1])."""
    return metrics.map_chunks(
        lambda x: getattr(family.can, ability)(params, state, to_float(x)), images, chunk
    )


@functools.partial(jax.jit, static_argnums=(0, 4))
def cluster_images(family: Family, params, state, images, chunk: int) -> jax.Array:
    """Cluster index [N] of uint8 images, chunk at a time."""
    return metrics.map_chunks(lambda x: family.can.cluster(params, state, to_float(x)), images, chunk)


def feature_metrics(dataset: Dataset, images, labels, config, key: jax.Array) -> dict:
    """Sample quality against the test set and the real-vs-real floor, or why they were skipped."""
    own_digits = config.data.name == "mnist" and config.data.domain_a == "original"
    size, _, channels = features_lib.IMAGE_SHAPE
    if not own_digits or dataset.image_shape[0] > size or dataset.image_shape[-1] != channels:
        return {"feature_metrics": "skipped: the feature extractor is an MNIST classifier (32x32x1 digits)"}
    extractor = features_lib.load_extractor(config.eval.extractor or None)
    if dataset.image_shape[0] < size:  # MNIST at data.image_size=28: digits and samples padded as jaxgen.data
        train, test = pad_to(dataset.train_images, size), pad_to(dataset.test_images, size)
        dataset = dataclasses.replace(dataset, train_images=train, test_images=test)
        images = None if images is None else pad_to(np.asarray(images), size)
    reference, _ = features_lib.extract(extractor, dataset.test_images, config.eval.chunk)
    n = config.eval.num_samples if images is None else min(len(images), dataset.train_images.shape[0])
    subset = np.sort(
        np.asarray(jax.random.permutation(jax.random.fold_in(key, 0), len(dataset.train_images))[:n])
    )
    out = {
        "extractor": {
            "sha256": extractor.sha256,
            "test_accuracy": extractor.info.get("test_accuracy"),
            "feature_dim": extractor.info.get("feature_dim"),
        },
        "reference": f"{config.data.name} test set ({len(dataset.test_images)} images)",
        "real_floor": sample_quality(
            extractor,
            reference,
            dataset.train_images[subset],
            dataset.train_labels[subset],
            config,
            jax.random.fold_in(key, 1),
        ),
    }
    if images is not None:
        out["samples"] = sample_quality(
            extractor, reference, images, labels, config, jax.random.fold_in(key, 1)
        )
    return out


_ROWS = (
    ("fid", "FID-MNIST (lower is better)"),
    ("kid", "KID"),
    ("mnist_score", "MNIST score (max 10)"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("class_entropy", "class entropy (max 2.303)"),
    ("label_accuracy", "label accuracy"),
)


def format_table(report: dict) -> str:
    """A short plain-text table of the report: model metrics, then samples beside the real floor."""
    lines = [f"evaluation of {report['source']}"]
    for name, value in report.get("model", {}).items():
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        if isinstance(value, dict):  # a domain classifier's record
            value = ", ".join(f"{k} {str(v)[:16]}" for k, v in value.items())
        lines.append(
            f"  {name:<32} {value:>12.5g}" if isinstance(value, (int, float)) else f"  {name:<32} {value}"
        )
    if "real_floor" in report:
        samples = report.get("samples", {})
        lines.append(f"  {'':<32} {'samples':>12} {'real floor':>12}")
        for key, title in _ROWS:
            if key not in samples and key not in report["real_floor"]:
                continue
            model = f"{samples[key]:.4g}" if key in samples else "-"
            floor = report["real_floor"].get(key)
            lines.append(f"  {title:<32} {model:>12} {'' if floor is None else f'{floor:.4g}':>12}")
        lines.append(f"  extractor sha256 {report['extractor']['sha256'][:16]}...")
    elif "feature_metrics" in report:
        lines.append(f"  feature metrics {report['feature_metrics']}")
    return "\n".join(lines)
