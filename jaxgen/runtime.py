"""What training, evaluation, sampling and pictures share: build a family from a config, the named keys,
fresh and restored train states, drawing samples and scoring a test split.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import math
import os
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax.sharding import AxisType
from tqdm import tqdm

from jaxgen import checkpoints, layers, losses, precision
from jaxgen import optim as optim_lib
from jaxgen.config import ConfigError, model_spec, parse_renames
from jaxgen.data import Dataset, feeds, load_dataset, to_float
from jaxgen.data.domains import output_shape
from jaxgen.metrics import map_chunks
from jaxgen.models import Family, Setup, init_networks
from jaxgen.optim import make_optimizer

TrainState = dict[str, Any]  # {"step": int32 [], "params", "state", "opt_state"}
SAMPLE_BLOCK = 500  # --mode=sample / eval draw blocks of this size with keys fold_in(key, block)


def log(message: str) -> None:
    """One line of run progress on stderr (the progress bar shares the stream); process 0's only."""
    if jax.process_index() == 0:
        tqdm.write(f"[jaxgen] {message}", file=sys.stderr)


def freeze_imported_objects() -> None:
    """Move every object alive now into the garbage collector's permanent generation, once a command's
    imports are done (jax, flax, optax, orbax: ~2 x 10^5 objects that live as long as the process). Tracing
    a compiled step allocates enough to set off full collections, and each one walked all of those objects
    again: ~10% of a compile from the persistent cache (experiments/README.md). A command's process only:
    a long-lived caller (the tests) would keep the garbage of its earlier work forever."""
    from jaxgen import train  # noqa: F401 - every library a run uses, imported before the freeze

    gc.freeze()


CACHE_MIN_COMPILE_S = 0.5  # programs that compile faster are not kept ($JAXGEN_CACHE_MIN_COMPILE_S)


def enable_compilation_cache(directory: Path | None = None) -> Path:
    """Turn on JAX's persistent compilation cache ($JAXGEN_CACHE_DIR or ~/.cache/jaxgen/xla), keeping the
    programs that took at least $JAXGEN_CACHE_MIN_COMPILE_S to compile (0.5 s: a faster one is cheaper to
    compile again than to look up; a test suite that builds the same small programs many times sets 0)."""
    directory = directory or Path(
        os.environ.get("JAXGEN_CACHE_DIR") or Path.home() / ".cache" / "jaxgen" / "xla"
    )
    min_compile_s = os.environ.get("JAXGEN_CACHE_MIN_COMPILE_S", "")
    try:
        seconds = float(min_compile_s) if min_compile_s else CACHE_MIN_COMPILE_S
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ConfigError(f"JAXGEN_CACHE_MIN_COMPILE_S={min_compile_s!r}: expected seconds, 0 or more")
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", seconds)
    return directory


def prepare_backend(config: ml_collections.ConfigDict) -> None:
    """Backend settings every mode applies before compiling anything."""
    if config.runtime.compilation_cache:
        enable_compilation_cache()


def conv_options(runtime: ml_collections.ConfigDict, slots: int = 1) -> layers.ConvOptions:
    """runtime.conv_impl resolved: 'auto' is XLA's convs on accelerators; on the CPU the 'cpu' lowering,
    or 'matmul' when S > 1 run slots are vmapped (vmapped convs become grouped convs, slow on XLA:CPU).
    runtime.compute_dtype resolved by jaxgen.precision ('auto': measured once per machine) for the convs;
    the MLP models' dense layers take it only when it is given, 'auto' keeps them float32."""
    impl = runtime.conv_impl
    if impl == "auto":
        impl = ("matmul" if slots > 1 else "cpu") if jax.default_backend() == "cpu" else "xla"
    dense = "float32" if runtime.compute_dtype == "auto" else runtime.compute_dtype
    return layers.ConvOptions(impl, precision.resolve(runtime.compute_dtype), dense)


def data_shapes(config: ml_collections.ConfigDict, dataset: Dataset | None = None):
    """(image shape, second domain's image shape or None), without loading MNIST-like data."""
    data = config.data
    if dataset is None and data.name in ("image_folder", "celeba"):
        return (data.image_size, data.image_size, data.channels), None
    grey_digits = ("mnist", "fashion_mnist", "uci_digits")  # single-channel images, shapes known
    if dataset is None and (data.name not in grey_digits or data.name_b not in ("", *grey_digits)):
        dataset = load_dataset(data)
    if dataset is not None:
        return dataset.image_shape, dataset.second.image_shape if dataset.second else None
    raw = (data.image_size, data.image_size, 1)
    shape_b = output_shape(data.domain_b, raw) if data.domain_b else None
    return output_shape(data.domain_a, raw), shape_b


def data_mesh(batch_size: int, slots: int = 1) -> jax.sharding.Mesh:
    """The 'data' mesh a batch is split over: every local device for one run slot, one device for S > 1
    (the slot axis is then the parallel one); every device of every process in a multi-process run."""
    if slots > 1 and jax.process_count() > 1:
        raise ConfigError("--seeds runs in one process; a multi-process run trains one seed")
    if jax.process_count() > 1:  # a global mesh: every device of every process
        devices = jax.devices()
    else:
        devices = jax.local_devices() if slots == 1 else jax.local_devices()[:1]
    if batch_size % len(devices):
        raise ConfigError(f"train.batch_size={batch_size} must be divisible by {len(devices)} devices")
    return jax.make_mesh((len(devices),), ("data",), axis_types=(AxisType.Auto,), devices=devices)


def build_family(config: ml_collections.ConfigDict, dataset: Dataset | None = None, slots: int = 1) -> Family:
    """The configured model's family, for the data's shapes (loaded only where they are not known)."""
    image_shape, image_shape_b = data_shapes(config, dataset)
    optimizer = make_optimizer(config.optim, config.train.num_steps)

    def scaled_optimizer(lr_scale: float):
        optim = config.optim.copy_and_resolve_references()
        optim.lr = config.optim.lr * lr_scale
        return make_optimizer(optim, config.train.num_steps)

    conv = conv_options(config.runtime, slots)
    setup = Setup(image_shape, optimizer, conv, image_shape_b, scaled_optimizer)
    family = model_spec(config.model.name).make(config.model, setup)
    feeds.check(family.data, config.data, config.model.name)
    if config.train.frozen:
        family = frozen_family(family, config.train.frozen, param_shapes(family))
    return family


@dataclasses.dataclass(frozen=True)
class Keys:
    """Named root keys derived from the config seed."""

    init: jax.Array
    data: jax.Array
    train: jax.Array
    grid: jax.Array
    labels: jax.Array  # which training images keep their labels in a semi-supervised run

    @classmethod
    def from_seed(cls, seed: int) -> Keys:
        root = jax.random.key(seed)
        return cls(*(jax.random.fold_in(root, i) for i in range(len(dataclasses.fields(cls)))))


INIT_IMAGES = 500  # training images a family's data-dependent initialisation sees (Salimans et al.: 500)


def init_state(
    family: Family,
    key: jax.Array,
    train_images: np.ndarray | None = None,
    average: bool = False,
    start: dict | None = None,
) -> TrainState:
    """Fresh parameters, optimizer states and step 0 (and the params' running average, train.average_decay).
    A family with a data-dependent initialisation gets INIT_IMAGES training images (uint8), chosen by the
    key, when train_images are given (a checkpoint's template needs none). `start` (another run's params,
    train.init_from) replaces every param whose network, path and shape it has."""
    # one compiled program (kept by the persistent cache) instead of every init op compiled on its own
    params, state = jax.jit(functools.partial(init_networks, family))(key)
    if family.initialise is not None and train_images is not None:
        image_key, init_key = jax.random.split(jax.random.fold_in(key, 0x1417))
        n = min(INIT_IMAGES, len(train_images))
        chosen = np.sort(np.asarray(jax.random.permutation(image_key, len(train_images))[:n]))
        images = to_float(jnp.asarray(train_images[chosen]))
        params, state = family.initialise(params, state, images, init_key)
    if start is not None:
        params, _ = take_params(params, start)
    shared = {net for u in family.updates if u.optimizer is None for net in u.networks}
    opt_state = {name: family.optimizers[name].init(params[name]) for name in sorted(shared)}
    phases = {
        u.name: {net: u.optimizer.init(params[net]) for net in u.networks}
        for u in family.updates
        if u.optimizer is not None
    }
    if phases:
        opt_state["phases"] = phases
    ts = {"step": jnp.zeros((), jnp.int32), "params": params, "state": state, "opt_state": opt_state}
    if average:
        names = sorted(params) if family.averaged is None else family.averaged
        ts["average"] = {name: jax.tree.map(jnp.copy, params[name]) for name in names}
    return ts


def param_shapes(family: Family) -> dict:
    """The params' structure and shapes (jax.ShapeDtypeStruct leaves), computed without initialising."""
    return jax.eval_shape(lambda: init_networks(family, jax.random.key(0))[0])


def take_params(params: dict, source: dict) -> tuple[dict, list[str]]:
    """params with each leaf replaced by source's leaf at the same path ('cls/DownStack_0/Conv_0/kernel')
    where it has one of the same shape; and the paths taken."""
    available = {
        optim_lib.param_path(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(source)
    }
    taken = []

    def pick(path, leaf):
        name = optim_lib.param_path(path)
        found = available.get(name)
        if found is None or tuple(found.shape) != tuple(leaf.shape):
            return leaf
        taken.append(name)
        return jnp.asarray(found, leaf.dtype)

    return jax.tree_util.tree_map_with_path(pick, params), taken


def rename_params(source: dict, renames: list[tuple[str, str]]) -> dict:
    """Another run's params with every path under a source prefix moved under its target prefix (the
    encoder of an autoencoder read as a classifier's body); other paths stay."""
    if not renames:
        return source
    out: dict = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(source):
        name = optim_lib.param_path(path)
        for old, new in renames:
            if name == old or name.startswith(old + "/"):
                name = new + name[len(old) :]
                break
        node = out
        *parents, last = name.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = leaf
    return out


def start_params(config: ml_collections.ConfigDict, family: Family) -> dict | None:
    """The params of train.init_from's newest checkpoint (None when it is empty); ConfigError when it has
    none or none of them fits this model. Logs what the run takes from it."""
    source = config.train.init_from
    if not source:
        return None
    params = param_shapes(family)
    reader = checkpoints.Checkpoints(Path(source), 1, writer=False, log=log)
    if not reader.steps():
        raise ConfigError(f"train.init_from={source}: no checkpoint in {Path(source) / 'checkpoints'}")
    start, step = reader.latest_params()
    start = rename_params(start, parse_renames(config.train.init_rename))
    _, taken = take_params(params, start)
    total = len(jax.tree.leaves(params))
    if not taken:
        raise ConfigError(f"train.init_from={source}: none of its params fits this model (names or shapes)")
    layers_taken = sorted({"/".join(name.split("/")[:2]) for name in taken})
    where = f"{source} (step {step})"
    log(f"starting from {where}: {len(taken)} of {total} param arrays: {', '.join(layers_taken)}")
    return start


def frozen_family(family: Family, frozen: str, params: dict) -> Family:
    """The family with the params under train.frozen's paths (network first) never updated."""
    prefixes = [p.strip().strip("/") for p in frozen.split(",") if p.strip()]
    if not prefixes:
        return family
    if any(u.optimizer is not None for u in family.updates):
        raise ConfigError(
            "train.frozen: this model's updates have their own optimizers; freezing is not supported"
        )
    names = [optim_lib.param_path(p) for p, _ in jax.tree_util.tree_leaves_with_path(params)]
    for prefix in prefixes:
        if not any(n == prefix or n.startswith(prefix + "/") for n in names):
            layers_of = sorted({"/".join(n.split("/")[:2]) for n in names})
            raise ConfigError(f"train.frozen: {prefix!r} names no parameter; the layers are {layers_of}")

    def is_frozen(network: str, path: str) -> bool:
        name = f"{network}/{path}"
        return any(name == p or name.startswith(p + "/") for p in prefixes)

    optimizers = {
        net: optax.chain(opt, optim_lib.freeze(functools.partial(is_frozen, net)))
        for net, opt in family.optimizers.items()
    }
    return dataclasses.replace(family, optimizers=optimizers)


def averaged(ts: TrainState) -> TrainState:
    """The state a trained model is used with: the params' running average (of the networks the family
    averages) in place of their params, where the run keeps one (train.average_decay)."""
    return {**ts, "params": {**ts["params"], **ts["average"]}} if "average" in ts else ts


def restore_model(
    config: ml_collections.ConfigDict, workdir: str | Path, dataset: Dataset | None = None
) -> tuple[Family, TrainState]:
    """The configured family and the newest intact checkpoint in workdir (for sampling, evaluation,
    pictures; with the params' running average as its params where the run keeps one). Reads only: a
    damaged newest step is reported and an older one used; nothing is written."""
    family = build_family(config, dataset)
    reader = checkpoints.Checkpoints(Path(workdir), config.train.keep_checkpoints, writer=False, log=log)
    template = init_state(family, jax.random.key(0), average=config.train.average_decay > 0)
    ts, _ = reader.restore_latest(template)
    if ts is None:
        raise FileNotFoundError(
            f"no checkpoint in {Path(workdir) / 'checkpoints'}; train first with the same --workdir"
        )
    return family, averaged(ts)


# ----------------------------------------------------------------------------------------- using a model


@functools.partial(jax.jit, static_argnums=(0, 4))
def draw_samples(family: Family, params, state, key: jax.Array, n: int) -> dict[str, jax.Array]:
    """Jitted family.can.sample (images in [0, 1], and the labels or codes that drew them)."""
    return family.can.sample(params, state, key, n)


def draw_many(family: Family, ts: TrainState, key: jax.Array, n: int) -> dict[str, np.ndarray]:
    """n samples on the host, drawn in fixed blocks (one compiled size; the same n samples for any caller)."""
    keys = [jax.random.fold_in(key, i) for i in range(math.ceil(n / SAMPLE_BLOCK))]
    parts = [jax.device_get(draw_samples(family, ts["params"], ts["state"], k, SAMPLE_BLOCK)) for k in keys]
    return {name: np.concatenate([p[name] for p in parts])[:n] for name in parts[0]}


@functools.partial(jax.jit, static_argnums=(0, 1))
def apply_to_images(family: Family, ability: str, params, state, images: jax.Array) -> jax.Array:
    """family.can.<ability> (reconstruct, translate, encode, ...) on uint8 or float images."""
    floats = images.astype(jnp.float32) / 255.0 if images.dtype == jnp.uint8 else images
    return getattr(family.can, ability)(params, state, floats)


def classification_metrics(logits: jax.Array, labels: jax.Array) -> dict[str, jax.Array]:
    """Per-example accuracy, error and cross-entropy [B] of class logits [B, K]."""
    correct = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
    return {
        "accuracy": correct,
        "error": 1.0 - correct,
        "cross_entropy": losses.softmax_cross_entropy(logits, labels),
    }


def evaluate_split(
    family: Family, ts: TrainState, data: dict, chunk: int = 500, aligned_b: bool = True
) -> dict:
    """Mean test metrics over a whole split (one compiled call): family.can.evaluate's, and the accuracy,
    error and cross-entropy of a family that can classify. `data` holds "test_images", "test_labels" (and
    the second domain's "test_images_b", "test_labels_b": their rows join domain A's when aligned_b, and
    a family that classifies domain B is scored on them as "b_accuracy", "b_error", "b_cross_entropy")."""
    out = {}
    if family.can.evaluate is not None or family.can.classify is not None:
        rows = jax.tree.map(jnp.asarray, feeds.test_rows(data, aligned_b))
        out.update(_evaluate_chunks(family, ts["params"], ts["state"], rows, chunk))
    if family.can.classify_b is not None:
        rows = {"image": jnp.asarray(data["test_images_b"]), "label": jnp.asarray(data["test_labels_b"])}
        results = _classify_chunks(family, ts["params"], ts["state"], rows, chunk)
        out.update({f"b_{name}": value for name, value in results.items()})
    return out


@functools.partial(jax.jit, static_argnums=(0, 4))
def _classify_chunks(family, params, state, rows, chunk):
    def one(chunk_rows):
        logits = family.can.classify_b(params, state, to_float(chunk_rows["image"]))
        return classification_metrics(logits, chunk_rows["label"])

    return {name: jnp.mean(v) for name, v in map_chunks(one, rows, chunk).items()}


@functools.partial(jax.jit, static_argnums=(0, 4))
def _evaluate_chunks(family, params, state, rows, chunk):
    def one(chunk_rows):
        batch = feeds.test_batch(chunk_rows)
        out = {}
        if family.can.classify is not None:
            logits = family.can.classify(params, state, batch["image"])
            out.update(classification_metrics(logits, batch["label"]))
        if family.can.evaluate is not None:
            out.update(family.can.evaluate(params, state, batch))
        return out

    per_example = map_chunks(one, rows, chunk)
    return {name: jnp.mean(values) for name, values in per_example.items()}


# (ability, grid name, test split it reads): the abilities that turn test images into images, drawn as
# samples/<name>_<step>.png by write_pictures and gathered into samples/<name>.gif at the end of training
IMAGE_GRIDS = (
    ("reconstruct", "reconstructions", "test_images"),
    ("translate", "translations", "test_images"),
    ("translate_back", "back_translations", "test_images_b"),
    ("rectify", "rectified", "test_images"),
)


CYCLE_COLUMNS = 10  # test images in each row of the cycle picture


def cycle_rows(family: Family, params, state, data: dict) -> dict[str, np.ndarray]:
    """Both round trips of an unpaired translator on the first test images of each domain: the inputs, their
    translations and the translations back (the cycle picture, samples/cycles_<step>.png)."""
    rows = {}
    for inputs, there, back, a, b in (
        ("test_images", "translate", "translate_back", "A", "B"),
        ("test_images_b", "translate_back", "translate", "B", "A"),
    ):
        originals = data[inputs][:CYCLE_COLUMNS]
        made = apply_to_images(family, there, params, state, originals)
        rows[f"{a} (test images)"] = np.asarray(originals) / 255.0
        rows[f"{a} → {b}"] = np.asarray(made)
        rows[f"{a} → {b} → {a}"] = np.asarray(apply_to_images(family, back, params, state, made))
    return rows


def write_pictures(
    family: Family, ts: TrainState, data: dict, keys, workdir: Path, n: int, tag: str, save: bool = True
) -> None:
    """Sample grid (fixed noise across the run) and, for models that reconstruct, translate (either way) or
    rectify (a spatial transformer), the test images (odd rows) above what the model makes of them; for
    models that translate both ways, the cycle picture.
    save=False computes them without writing (the other processes of a multi-process run)."""
    from jaxgen import viz

    params, state = ts["params"], ts["state"]
    pictures = []  # (drawing function, its arguments), drawn once everything is computed
    if family.can.sample is not None:
        drawn = draw_samples(family, params, state, keys.grid, n)
        images = np.asarray(drawn["images"])
        pictures.append((viz.save_grid, workdir / "samples" / f"samples_{tag}.png", images))
        if "images_b" in drawn:  # pairs in two domains: each A row above its B row
            pairs = workdir / "samples" / f"pairs_{tag}.png"
            pictures.append((viz.save_reconstructions, pairs, images, np.asarray(drawn["images_b"])))
    for ability, name, split in IMAGE_GRIDS:
        if getattr(family.can, ability) is not None:
            originals = data[split][:n]
            made = np.asarray(apply_to_images(family, ability, params, state, originals))
            path = workdir / "samples" / f"{name}_{tag}.png"
            pictures.append((viz.save_reconstructions, path, np.asarray(originals) / 255.0, made))
    if family.can.translate is not None and family.can.translate_back is not None:
        path = workdir / "samples" / f"cycles_{tag}.png"
        pictures.append((viz.save_rows, path, cycle_rows(family, params, state, data)))
    if save:
        for draw, *arguments in pictures:
            draw(*arguments)
