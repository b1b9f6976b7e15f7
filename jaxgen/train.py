"""THE trainer: one jitted, data-parallel loop for every model family.

- State is one pytree: {"step", "params", "state", "opt_state"} for all networks of the family.
- Randomness: the step's key is `fold_in(train_key, step)`; data order is a pure function of (seed, epoch).
  Nothing random is threaded through the loop, so restoring the state resumes the run exactly.
- The training set lives on the device (uint8, replicated); each batch is gathered and sharded over the
  local devices along the batch axis (`jax.sharding`), so gradients are all-reduced by XLA.
- `train.steps_per_call` steps run per compiled call (`lax.scan`); metrics stay on device until logging.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import signal
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm import tqdm

from jaxgen import config as config_lib
from jaxgen import viz
from jaxgen.data import Dataset, batch_indices, epoch_order, labelled_subset, load_dataset, to_float
from jaxgen.metric_writer import MetricWriter
from jaxgen.metrics import map_chunks
from jaxgen.models import REGISTRY, Family, init_networks
from jaxgen.optim import make_optimizer

TrainState = dict[str, Any]  # {"step": int32 [], "params", "state", "opt_state"}

# Measured on a 2-core CPU (experiments/README.md): a lax.scan over conv steps ran slower per step than
# separate calls, so CPU fuses nothing; on accelerators fusing steps removes per-call dispatch.
DEFAULT_STEPS_PER_CALL = {"cpu": 1, "gpu": 50, "tpu": 50}


class NonFiniteLossError(RuntimeError):
    """A training loss became NaN or infinite."""


class WorkdirBusyError(RuntimeError):
    """Another process is training in the same workdir."""


@contextlib.contextmanager
def workdir_lock(workdir: Path):
    """Hold an exclusive lock on workdir/.lock for the run; the OS releases it if the process dies."""
    import fcntl

    handle = open(workdir / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WorkdirBusyError(
            f"another jaxgen process is training in {workdir}; wait for it to finish or use another --workdir"
        ) from None
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class TrainingInterrupted(Exception):
    """SIGTERM / SIGINT arrived; a checkpoint was saved."""

    def __init__(self, signum: int, step: int):
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}")
        self.signum, self.step = signum, step


def log(message: str) -> None:
    """One line of run progress on stderr (the progress bar shares the stream)."""
    tqdm.write(f"[jaxgen] {message}", file=sys.stderr)


# ----------------------------------------------------------------------------------------- setup


def enable_compilation_cache(directory: Path | None = None) -> Path:
    """Turn on JAX's persistent compilation cache ($JAXGEN_CACHE_DIR or ~/.cache/jaxgen/xla)."""
    import os

    directory = directory or Path(
        os.environ.get("JAXGEN_CACHE_DIR") or Path.home() / ".cache" / "jaxgen" / "xla"
    )
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return directory


def build_family(config: ml_collections.ConfigDict, image_shape: tuple[int, int, int]) -> Family:
    """Look the model up in the registry and build it from its config section."""
    optimizer = make_optimizer(config.optim, config.train.num_steps)
    return REGISTRY[config.model.name](config.model, optimizer, image_shape)


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


def init_state(family: Family, key: jax.Array) -> TrainState:
    """Fresh parameters, optimizer states and step 0."""
    params, state = init_networks(family, key)
    opt_state = {name: family.optimizers[name].init(params[name]) for name in sorted(family.networks)}
    return {"step": jnp.zeros((), jnp.int32), "params": params, "state": state, "opt_state": opt_state}


def batches_per_step(family: Family) -> int:
    """Every update repetition draws its own batch (WGAN's critic sees 5 fresh batches per step)."""
    return sum(update.repeat for update in family.updates)


# ----------------------------------------------------------------------------------------- the step


LABELLED_DRAW = 0x1ABE1  # fold_in(update key, LABELLED_DRAW): the key of an update's labelled batch


def batch_plan(
    data_key: jax.Array, first_epoch: int, n_train: int, labelled: jax.Array | None = None
) -> dict:
    """What one compiled call draws batches from: "orders" [2, N], the image orders of epochs first_epoch and
    first_epoch + 1, and for a semi-supervised family "labelled" [L], the indices that keep their labels."""
    plan = {"orders": jnp.stack([epoch_order(data_key, e, n_train) for e in (first_epoch, first_epoch + 1)])}
    if labelled is not None:
        plan["labelled"] = labelled
    return plan


def make_train_step(family: Family, batch_size: int, mesh: jax.sharding.Mesh):
    """One training step: run the family's updates in order. Pure: (state, data, ...) -> (state, metrics)."""
    batch_sharding = NamedSharding(mesh, P("data"))
    n_batches = batches_per_step(family)

    def get_batch(data, plan, first_epoch, counter, key):
        idx = batch_indices(plan["orders"], first_epoch, counter, batch_size)
        batch = {"image": to_float(data["images"][idx]), "label": data["labels"][idx]}
        if family.semi_supervised:
            # the unlabelled stream carries no labels; labelled examples are drawn (with replacement) from
            # the labelled subset only, so no loss can use a label outside it
            batch["label"] = jnp.full_like(batch["label"], -1)
            labelled = plan["labelled"]
            pick = jax.random.randint(
                jax.random.fold_in(key, LABELLED_DRAW), (batch_size,), 0, labelled.shape[0]
            )
            batch["labelled_image"] = to_float(data["images"][labelled[pick]])
            batch["labelled_label"] = data["labels"][labelled[pick]]
        return jax.lax.with_sharding_constraint(batch, batch_sharding)

    def apply_update(update, params, model_state, opt_state, batch, key):
        def objective(trainable, model_state):
            return update.loss({**params, **trainable}, model_state, batch, key)

        trainable = {name: params[name] for name in update.networks}
        (loss, (metrics, model_state)), grads = jax.value_and_grad(objective, has_aux=True)(
            trainable, model_state
        )
        params, opt_state = dict(params), dict(opt_state)
        for name in update.networks:
            updates, opt_state[name] = family.optimizers[name].update(
                grads[name], opt_state[name], params[name]
            )
            params[name] = optax.apply_updates(params[name], updates)
        return params, model_state, opt_state, {"loss": loss, **metrics}

    def train_step(ts: TrainState, data, plan, first_epoch, train_key) -> tuple[TrainState, dict]:
        step = ts["step"]
        key = jax.random.fold_in(train_key, step)
        params, model_state, opt_state = ts["params"], ts["state"], ts["opt_state"]
        metrics, draw = {}, 0
        for update in family.updates:
            for _ in range(update.repeat):
                update_key = jax.random.fold_in(key, draw + 1)
                batch = get_batch(data, plan, first_epoch, step * n_batches + draw, update_key)
                draw += 1
                params, model_state, opt_state, update_metrics = apply_update(
                    update, params, model_state, opt_state, batch, update_key
                )
            metrics.update({f"{update.name}/{k}": v for k, v in update_metrics.items()})
        new_ts = {"step": step + 1, "params": params, "state": model_state, "opt_state": opt_state}
        return new_ts, metrics

    return train_step


def make_multi_step(family: Family, batch_size: int, mesh: jax.sharding.Mesh):
    """k steps per compiled call; returns metrics stacked [k]. The state buffers are donated."""
    train_step = make_train_step(family, batch_size, mesh)

    @functools.partial(jax.jit, static_argnames="k", donate_argnums=0)
    def multi_step(ts, data, plan, first_epoch, train_key, k: int):
        if k == 1:
            ts, metrics = train_step(ts, data, plan, first_epoch, train_key)
            return ts, jax.tree.map(lambda x: x[None], metrics)
        return jax.lax.scan(
            lambda s, _: train_step(s, data, plan, first_epoch, train_key), ts, None, length=k
        )

    return multi_step


# ----------------------------------------------------------------------------------------- evaluation


def evaluate_split(
    family: Family, ts: TrainState, images: jax.Array, labels: jax.Array, chunk: int = 500
) -> dict:
    """Mean of family.evaluate's per-example metrics over a whole split (one compiled call)."""
    return _evaluate_chunks(family, ts["params"], ts["state"], images, labels, chunk)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _evaluate_chunks(family, params, state, images, labels, chunk):
    def one(rows):
        x, y, index = rows
        return family.evaluate(params, state, {"image": to_float(x), "label": y, "index": index})

    # "index" (the image's position in the split) lets a family draw per-image noise that does not depend
    # on the chunking (the denoising AE's test corruption)
    indices = jnp.arange(images.shape[0], dtype=jnp.int32)
    per_example = map_chunks(one, (images, labels, indices), chunk)
    return {name: jnp.mean(values) for name, values in per_example.items()}


@functools.partial(jax.jit, static_argnums=(0, 4))
def draw_samples(family: Family, params, state, key: jax.Array, n: int) -> dict[str, jax.Array]:
    """Jitted family.sample (images in [0, 1], and labels for conditional models)."""
    return family.sample(params, state, key, n)


SAMPLE_BLOCK = 500  # --mode=sample / eval draw blocks of this size with keys fold_in(key, block)


def draw_many(family: Family, ts: TrainState, key: jax.Array, n: int) -> dict[str, np.ndarray]:
    """n samples on the host, drawn in fixed blocks (one compiled size; the same n samples for any caller)."""
    keys = [jax.random.fold_in(key, i) for i in range(math.ceil(n / SAMPLE_BLOCK))]
    parts = [jax.device_get(draw_samples(family, ts["params"], ts["state"], k, SAMPLE_BLOCK)) for k in keys]
    return {name: np.concatenate([p[name] for p in parts])[:n] for name in parts[0]}


@functools.partial(jax.jit, static_argnums=0)
def _reconstruct(family, params, state, images):
    return family.reconstruct(params, state, to_float(images))


def write_pictures(
    family: Family, ts: TrainState, data: dict, keys: Keys, workdir: Path, n: int, tag: str
) -> None:
    """Sample grid (fixed noise across the run) and, for autoencoders, a reconstruction grid."""
    if family.sample is not None:
        images = np.asarray(draw_samples(family, ts["params"], ts["state"], keys.grid, n)["images"])
        viz.save_grid(workdir / "samples" / f"samples_{tag}.png", images)
    if family.reconstruct is not None:
        originals = data["test_images"][:n]
        recon = np.asarray(_reconstruct(family, ts["params"], ts["state"], originals))
        viz.save_reconstructions(
            workdir / "samples" / f"reconstructions_{tag}.png", to_float(originals), recon
        )


# ----------------------------------------------------------------------------------------- checkpoints


def checkpoint_manager(workdir: Path, keep: int) -> ocp.CheckpointManager:
    """Orbax manager in workdir/checkpoints; orbax writes to a temporary folder and renames (atomic)."""
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=False)
    return ocp.CheckpointManager((workdir / "checkpoints").absolute(), options=options)


def restore_latest(manager: ocp.CheckpointManager, target: TrainState) -> TrainState | None:
    """Restore the newest checkpoint into target's structure and shardings; None if there is none."""
    step = manager.latest_step()
    if step is None:
        return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    return manager.restore(step, args=ocp.args.StandardRestore(abstract))


def restore_model(config: ml_collections.ConfigDict, workdir: Path, image_shape) -> tuple[Family, TrainState]:
    """The configured family and the newest checkpoint in workdir (for sampling, evaluation, pictures)."""
    family = build_family(config, image_shape)
    manager = checkpoint_manager(Path(workdir), config.train.keep_checkpoints)
    ts = restore_latest(manager, init_state(family, jax.random.key(0)))
    manager.close()
    if ts is None:
        raise FileNotFoundError(
            f"no checkpoint in {Path(workdir) / 'checkpoints'}; train first with the same --workdir"
        )
    return family, ts


# ----------------------------------------------------------------------------------------- the loop


def resolve_steps_per_call(
    config: ml_collections.ConfigDict, batches_in_step: int, batches_per_epoch: int
) -> int:
    """Configured steps per call, or the per-backend default; bounded so a call spans at most 2 epochs."""
    k = config.train.steps_per_call or DEFAULT_STEPS_PER_CALL.get(jax.default_backend(), 1)
    k = min(k, config.train.log_every, config.train.num_steps)
    if k * batches_in_step > batches_per_epoch:
        if config.train.steps_per_call:
            raise config_lib.ConfigError(
                f"train.steps_per_call={k} needs {k * batches_in_step} batches per call, more than one epoch "
                f"({batches_per_epoch} batches); lower it"
            )
        k = max(1, batches_per_epoch // batches_in_step)
    return k


class PlanCache:
    """The batch plan of the epoch a compiled call starts in, computed once per epoch."""

    def __init__(self, make):
        self._make, self._epoch, self._plan = make, None, None

    def __call__(self, first_epoch: int) -> dict:
        if first_epoch != self._epoch:
            self._epoch, self._plan = first_epoch, self._make(first_epoch)
        return self._plan


LABELLED_FILE = "labelled_subset.json"


def labelled_indices(
    config: ml_collections.ConfigDict, family: Family, dataset: Dataset, keys: Keys, workdir: Path
) -> np.ndarray | None:
    """The training images whose labels a semi-supervised family may read (None for other families).

    data.num_labels images, balanced over the classes and drawn with the seed's labels key; 0 = all. The
    choice is written to workdir/labelled_subset.json, and a resumed run must find the same one there.
    """
    num = config.data.num_labels
    if not family.semi_supervised:
        if num:
            raise config_lib.ConfigError(
                f"data.num_labels={num} is for semi-supervised models (e.g. ssaae); "
                f"model {config.model.name!r} reads the label of every training image"
            )
        return None
    labels = dataset.train_labels
    if num == 0:
        indices = np.arange(len(labels), dtype=np.int32)
    else:
        try:
            indices = labelled_subset(keys.labels, labels, num)
        except ValueError as error:
            raise config_lib.ConfigError(str(error)) from None
    record = {
        "num_labels": int(len(indices)),
        "per_class": np.bincount(labels[indices], minlength=10).tolist(),
        "indices": indices.tolist() if num else "all",
    }
    path = workdir / LABELLED_FILE
    if path.exists() and json.loads(path.read_text()) != record:
        raise config_lib.ConfigError(
            f"{path} records another labelled subset than this config and data choose (data.num_labels, "
            "seed or training set changed); use a new --workdir"
        )
    path.write_text(json.dumps(record) + "\n")
    log(f"semi-supervised: {len(indices)} labelled training images, per class {record['per_class']}: {path}")
    return indices


def _crossed(before: int, after: int, every: int) -> bool:
    return after // every > before // every


def _device_data(dataset: Dataset, replicated: NamedSharding) -> dict[str, jax.Array]:
    arrays = {
        "images": dataset.train_images,
        "labels": dataset.train_labels,
        "test_images": dataset.test_images,
        "test_labels": dataset.test_labels,
    }
    return {k: jax.device_put(v, replicated) for k, v in arrays.items()}


class _SignalFlag:
    """Records SIGTERM / SIGINT so the loop can checkpoint and stop between compiled calls."""

    def __init__(self):
        self.signum = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def _handle(self, signum, frame):
        del frame
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def train(
    config: ml_collections.ConfigDict, workdir: str | Path, dataset: Dataset | None = None
) -> TrainState:
    """Train (or resume) the configured model in workdir; returns the final state."""
    config_lib.validate(config)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with workdir_lock(workdir):
        return _train_locked(config, workdir, dataset)


def _train_locked(config: ml_collections.ConfigDict, workdir: Path, dataset: Dataset | None) -> TrainState:
    if config.train.compilation_cache:
        enable_compilation_cache()
    (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))

    dataset = dataset or load_dataset(config.data)
    batch_size = config.train.batch_size
    devices = jax.local_devices()
    if batch_size % len(devices):
        raise config_lib.ConfigError(
            f"train.batch_size={batch_size} must be divisible by {len(devices)} devices"
        )
    if len(dataset.train_images) < batch_size:
        raise config_lib.ConfigError(
            f"train.batch_size={batch_size} exceeds the {len(dataset.train_images)} training images"
        )
    mesh = jax.make_mesh((len(devices),), ("data",), axis_types=(AxisType.Auto,), devices=devices)
    replicated = NamedSharding(mesh, P())

    family = build_family(config, dataset.image_shape)
    keys = Keys.from_seed(config.seed)
    ts = jax.device_put(init_state(family, keys.init), replicated)
    manager = checkpoint_manager(workdir, config.train.keep_checkpoints)
    restored = restore_latest(manager, ts)
    if restored is not None:
        ts = restored
        log(f"resuming from the checkpoint at step {int(ts['step'])} in {workdir / 'checkpoints'}")
    start = int(ts["step"])
    num_steps = config.train.num_steps

    data = _device_data(dataset, replicated)
    n_train = len(dataset.train_images)
    per_step = batches_per_step(family)
    batches_per_epoch = n_train // batch_size
    k = resolve_steps_per_call(config, per_step, batches_per_epoch)
    multi_step = make_multi_step(family, batch_size, mesh)
    labelled = labelled_indices(config, family, dataset, keys, workdir)
    labelled = None if labelled is None else jax.device_put(labelled, replicated)
    plan_of = jax.jit(batch_plan, static_argnums=2)
    plans = PlanCache(lambda epoch: plan_of(keys.data, epoch, n_train, labelled))

    n_params = sum(x.size for x in jax.tree.leaves(ts["params"]))
    log(
        f"model {config.model.name}: networks {sorted(family.networks)}, {n_params:,} parameters; "
        f"{len(devices)} {jax.default_backend()} device(s); batch {batch_size}; {k} step(s) per compiled call"
    )

    writer = MetricWriter(workdir, start)
    pending: list[tuple[int, dict]] = []  # (first step, metrics [k]) still on device
    last_checkpoint = manager.latest_step()
    clock = {"time": time.perf_counter(), "step": start}
    bar = tqdm(
        total=num_steps, initial=start, unit="step", dynamic_ncols=True, file=sys.stderr, mininterval=2.0
    )

    def flush(step: int) -> None:
        """Move pending metrics to the host, stop on a non-finite loss, write the log record."""
        nonlocal pending
        if not pending:
            return
        host = jax.device_get([m for _, m in pending])
        firsts = [s for s, _ in pending]
        pending = []
        for first, metrics in zip(firsts, host, strict=True):
            for name, values in metrics.items():
                bad = np.flatnonzero(~np.isfinite(values))
                if name.endswith("loss") and bad.size:
                    saved = (
                        f"step {last_checkpoint}"
                        if last_checkpoint is not None
                        else "none (no checkpoint yet)"
                    )
                    raise NonFiniteLossError(
                        f"non-finite loss at step {first + int(bad[0]) + 1}: {name} = {values[bad[0]]}; "
                        f"last good checkpoint: {saved} in {workdir / 'checkpoints'}"
                    )
        means = {name: float(np.mean(np.concatenate([m[name] for m in host]))) for name in host[0]}
        now = time.perf_counter()
        steps_done = step - clock["step"]
        rate = steps_done / max(now - clock["time"], 1e-9)
        clock.update(time=now, step=step)
        record = {**means, "steps_per_s": rate, "images_per_s": rate * batch_size}
        writer.write("train", step, record)
        bar.set_postfix(
            {"img/s": f"{rate * batch_size:.0f}", **{n: f"{v:.4g}" for n, v in means.items() if "loss" in n}}
        )

    def save(step: int) -> None:
        """Flush metrics and checkpoint step; a step already saved is not saved again (a stop signal
        can land just after a periodic save, and the loop's end may follow one)."""
        nonlocal last_checkpoint
        flush(step)
        if last_checkpoint == step:
            return
        manager.save(step, args=ocp.args.StandardSave(ts), force=True)
        manager.wait_until_finished()
        last_checkpoint = step

    def evaluate(step: int, tag: str) -> dict:
        write_pictures(family, ts, data, keys, workdir, config.train.num_grid_images, tag)
        if family.evaluate is None:
            return {}
        results = evaluate_split(family, ts, data["test_images"], data["test_labels"])
        results = {f"test_{name}": float(v) for name, v in results.items()}
        writer.write("eval", step, results)
        log(f"step {step}: " + ", ".join(f"{n} {v:.4f}" for n, v in results.items()))
        return results

    step = start
    try:
        with _SignalFlag() as stop:
            while step < num_steps:
                calls = min(k, num_steps - step)
                first_epoch = step * per_step // batches_per_epoch
                call_start = time.perf_counter()
                ts, metrics = multi_step(ts, data, plans(first_epoch), first_epoch, keys.train, calls)
                pending.append((step, metrics))
                before, step = step, step + calls
                jax.block_until_ready(ts["step"])  # keeps the bar honest; no data leaves the device
                if before == start:
                    seconds = time.perf_counter() - call_start
                    log(f"first call (compilation + {calls} step(s)) took {seconds:.1f} s")
                bar.update(calls)
                if _crossed(before, step, config.train.log_every) or step == num_steps:
                    flush(step)
                if _crossed(before, step, config.train.checkpoint_every) and step < num_steps:
                    save(step)
                if _crossed(before, step, config.train.eval_every) and step < num_steps:
                    evaluate(step, f"{step:07d}")
                if stop.signum is not None:
                    save(step)
                    raise TrainingInterrupted(stop.signum, step)
            save(step)
        final = evaluate(step, "final")
        if family.sample is not None:
            viz.save_progress_gif(workdir / "samples")
        (workdir / "final_metrics.json").write_text(json.dumps({"step": step, **final}, indent=2) + "\n")
    finally:
        bar.close()
        writer.close()
        manager.close()
        if (workdir / "metrics.jsonl").exists():
            viz.save_loss_curves(workdir / "metrics.jsonl", workdir / "loss_curves.png")
    log(f"done at step {step}; checkpoints, metrics.jsonl, tensorboard/ and samples/ are in {workdir}")
    return ts


# ----------------------------------------------------------------------------------------- many seeds


def make_seeds_step(family: Family, batch_size: int, mesh: jax.sharding.Mesh):
    """The training step vmapped over a leading seed axis of the state, the data orders and the train key:
    S independent runs in one compiled program (k steps per call, as make_multi_step)."""
    train_step = jax.vmap(make_train_step(family, batch_size, mesh), in_axes=(0, None, 0, None, 0))

    @functools.partial(jax.jit, static_argnames="k", donate_argnums=0)
    def seeds_step(ts, data, plans, first_epoch, train_keys, k: int):
        return jax.lax.scan(
            lambda s, _: train_step(s, data, plans, first_epoch, train_keys), ts, None, length=k
        )

    return seeds_step


def seed_workdir(workdir: str | Path, seed: int) -> Path:
    """Where seed `seed` of a many-seed run keeps its checkpoints and logs: an ordinary workdir that
    --mode=eval / sample / viz read with --config.seed=<seed>."""
    return Path(workdir) / f"seed_{seed}"


def train_seeds(
    config: ml_collections.ConfigDict,
    workdir: str | Path,
    seeds: list[int],
    dataset: Dataset | None = None,
) -> TrainState:
    """Train one config under several seeds at once (jax.vmap over the seeds); returns the stacked state.

    Seed s runs exactly what `train` runs with config.seed = s (same init, data order and noise), so each
    workdir/seed_<s> holds the checkpoints, metrics.jsonl, samples and config.json of an ordinary run.
    Checkpoints are written at the end (and every train.checkpoint_every steps); a rerun resumes when every
    seed has a checkpoint at the same step.
    """
    if len(set(seeds)) != len(seeds) or not seeds:
        raise config_lib.ConfigError(f"seeds {seeds} must be distinct and at least one")
    config_lib.validate(config)
    if config.model.conv_impl == "auto" and jax.default_backend() == "cpu":
        config = config.copy_and_resolve_references()
        config.model.conv_impl = "matmul"  # vmapped convs become grouped convs, slow on XLA:CPU
        log("model.conv_impl=auto -> matmul: the seeds' convs as batched matmuls on the CPU")
    if config.train.compilation_cache:
        enable_compilation_cache()
    dataset = dataset or load_dataset(config.data)
    devices = jax.local_devices()[:1]  # the seed axis is the parallel axis; one device holds it
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=devices)
    replicated = NamedSharding(mesh, P())
    family = build_family(config, dataset.image_shape)
    workdirs = [seed_workdir(workdir, s) for s in seeds]
    seed_configs = []
    for s, wd in zip(seeds, workdirs, strict=True):
        wd.mkdir(parents=True, exist_ok=True)
        seed_config = config.copy_and_resolve_references()
        seed_config.seed = s
        (wd / "config.json").write_text(seed_config.to_json_best_effort(indent=2))
        seed_configs.append(seed_config)

    all_keys = [Keys.from_seed(s) for s in seeds]
    stacked_keys = Keys(
        *(jnp.stack([getattr(k, f.name) for k in all_keys]) for f in dataclasses.fields(Keys))
    )
    managers = [checkpoint_manager(wd, config.train.keep_checkpoints) for wd in workdirs]
    try:
        with workdir_lock(Path(workdir)):
            return _train_seeds_loop(
                config, family, dataset, seeds, workdirs, managers, all_keys, stacked_keys, mesh, replicated
            )
    finally:
        for manager in managers:
            manager.close()


def _train_seeds_loop(
    config, family, dataset, seeds, workdirs, managers, all_keys, stacked_keys, mesh, replicated
):
    batch_size = config.train.batch_size
    fresh = [init_state(family, k.init) for k in all_keys]
    latest = [m.latest_step() for m in managers]
    if any(s is not None for s in latest):
        if len(set(latest)) != 1:
            raise config_lib.ConfigError(
                f"seeds {seeds} have checkpoints at different steps {latest} in "
                f"{[str(w) for w in workdirs]}; remove those workdirs or train the seeds one by one"
            )
        fresh = [restore_latest(m, ts) for m, ts in zip(managers, fresh, strict=True)]
        log(f"resuming {len(seeds)} seeds from step {latest[0]}")
    ts = jax.device_put(jax.tree.map(lambda *xs: jnp.stack(xs), *fresh), replicated)
    start, num_steps = int(ts["step"][0]), config.train.num_steps
    data = _device_data(dataset, replicated)
    n_train = len(dataset.train_images)
    per_step = batches_per_step(family)
    batches_per_epoch = n_train // batch_size
    k = resolve_steps_per_call(config, per_step, batches_per_epoch)
    seeds_step = make_seeds_step(family, batch_size, mesh)
    labelled = [
        labelled_indices(config, family, dataset, keys, wd)
        for keys, wd in zip(all_keys, workdirs, strict=True)
    ]
    labelled = None if labelled[0] is None else jax.device_put(np.stack(labelled), replicated)
    plans_of = jax.jit(jax.vmap(batch_plan, in_axes=(0, None, None, 0)), static_argnums=2)
    plans = PlanCache(lambda epoch: plans_of(stacked_keys.data, epoch, n_train, labelled))
    writers = [MetricWriter(wd, start) for wd in workdirs]
    log(
        f"model {config.model.name}: {len(seeds)} seeds {seeds} in one program; batch {batch_size} per seed; "
        f"{k} step(s) per compiled call"
    )
    pending: list[dict] = []
    clock = {"time": time.perf_counter(), "step": start}

    def flush(step: int) -> None:
        nonlocal pending
        if not pending:
            return
        host = jax.device_get(pending)
        pending = []
        now = time.perf_counter()
        rate = (step - clock["step"]) / max(now - clock["time"], 1e-9)
        clock.update(time=now, step=step)
        for i, (seed, writer) in enumerate(zip(seeds, writers, strict=True)):
            means = {}
            for name in host[0]:
                values = np.concatenate([m[name][:, i] for m in host])
                if name.endswith("loss") and not np.all(np.isfinite(values)):
                    raise NonFiniteLossError(f"seed {seed}: non-finite {name} before step {step}")
                means[name] = float(np.mean(values))
            writer.write("train", step, {**means, "steps_per_s": rate, "images_per_s": rate * batch_size})

    def save(step: int) -> None:
        flush(step)
        for i, manager in enumerate(managers):
            if manager.latest_step() != step:
                one = jax.tree.map(lambda x, i=i: x[i], ts)
                manager.save(step, args=ocp.args.StandardSave(one), force=True)
                manager.wait_until_finished()

    step = start
    bar = tqdm(
        total=num_steps, initial=start, unit="step", dynamic_ncols=True, file=sys.stderr, mininterval=2.0
    )
    try:
        with _SignalFlag() as stop:  # SIGTERM / SIGINT: checkpoint every seed, then stop
            while step < num_steps:
                calls = min(k, num_steps - step)
                first_epoch = step * per_step // batches_per_epoch
                ts, metrics = seeds_step(ts, data, plans(first_epoch), first_epoch, stacked_keys.train, calls)
                pending.append(metrics)
                before, step = step, step + calls
                jax.block_until_ready(ts["step"])
                bar.update(calls)
                if _crossed(before, step, config.train.log_every) or step == num_steps:
                    flush(step)
                if _crossed(before, step, config.train.checkpoint_every) and step < num_steps:
                    save(step)
                if stop.signum is not None:
                    save(step)
                    raise TrainingInterrupted(stop.signum, step)
            save(step)
    finally:
        bar.close()
        for writer in writers:
            writer.close()
    for i, (wd, keys) in enumerate(zip(workdirs, all_keys, strict=True)):
        one = jax.tree.map(lambda x, i=i: x[i], ts)
        write_pictures(family, one, data, keys, wd, config.train.num_grid_images, "final")
        (wd / "final_metrics.json").write_text(json.dumps({"step": step}, indent=2) + "\n")
        viz.save_loss_curves(wd / "metrics.jsonl", wd / "loss_curves.png")
    log(f"done at step {step}; seed workdirs: {', '.join(str(w) for w in workdirs)}")
    return ts
