"""THE trainer: one jitted, data-parallel loop for every model family, over S run slots.

- S = 1 for one run; `--seeds=0,1,2` gives one slot per seed, and the compiled step is `jax.vmap`ped over
  the slots' states, data orders and keys. Every slot writes an ordinary workdir (a seed's is
  workdir/seed_<s>): evaluation, checkpoints, the NaN stop, logs and final metrics are the same code.
- State is one pytree per slot: {"step", "params", "state", "opt_state"} for all networks of the family.
- Randomness: the step's key is `fold_in(train_key, step)`; data order is a pure function of (seed, epoch).
  Nothing random is threaded through the loop, so restoring the state resumes the run exactly.
- The training set lives on the device (uint8, replicated); batches are drawn there by the family's data
  kind (jaxgen/data/feeds.py) and sharded over the local devices along the batch axis (`jax.sharding`),
  so gradients are all-reduced by XLA.
- `runtime.steps_per_call` steps run per compiled call (`lax.scan`); metrics stay on device until logging.
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
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm import tqdm

from jaxgen import checkpoints, distributed, precision, runtime, viz
from jaxgen import config as config_lib
from jaxgen.data import Dataset, feeds, load_dataset
from jaxgen.metric_writer import MetricWriter
from jaxgen.runtime import Keys, TrainState, log
from jaxgen.step import batches_before, batches_per_step, make_multi_step, resolve_steps_per_call
from jaxgen.workdir import StopSignal, TrainingInterrupted, check_resume, check_usable, locks, seed_workdir


class NonFiniteLossError(RuntimeError):
    """A training loss became NaN or infinite."""


# ----------------------------------------------------------------------------------------- run slots


@dataclasses.dataclass
class Slot:
    """One run of the program: its seed, workdir, keys, checkpoints and metric log."""

    seed: int
    workdir: Path
    keys: Keys
    manager: object = None
    writer: MetricWriter | None = None
    last_saved: int | None = None  # the newest step on disk


def train(
    config: ml_collections.ConfigDict,
    workdir: str | Path,
    dataset: Dataset | None = None,
    seeds: list[int] | None = None,
    allow_config_change: bool = False,
) -> TrainState:
    """Train (or resume) the configured model in workdir and return the final state. With `seeds`, train
    those seeds at once, each in workdir/seed_<s>, and return their states stacked on a leading axis.

    A resumed run must ask for the config its workdir recorded, but for the fields of
    `jaxgen.workdir.RESUMABLE`; `allow_config_change` resumes it anyway (the changes are logged)."""
    config_lib.validate(config)
    if seeds is not None and (len(set(seeds)) != len(seeds) or not seeds):
        raise config_lib.ConfigError(f"seeds {seeds} must be distinct and at least one")
    workdir = Path(workdir)
    if seeds is None:
        slots = [Slot(config.seed, workdir, Keys.from_seed(config.seed))]
    else:
        slots = [Slot(s, seed_workdir(workdir, s), Keys.from_seed(s)) for s in seeds]
    for path in (workdir, *(slot.workdir for slot in slots)):
        check_usable(path, create=True)
        path.mkdir(parents=True, exist_ok=True)
    runtime.prepare_backend(config)
    # process 0 writes the workdir and holds its locks (jaxgen/distributed.py)
    held = [workdir, *(slot.workdir for slot in slots)] if distributed.is_primary() else []
    with locks(held):
        run = _Run(config, slots, dataset or load_dataset(config.data), allow_config_change)
        try:
            ts = run.loop()
        finally:
            run.close()
    return jax.tree.map(lambda x: x[None], ts) if seeds is not None and not run.stacked else ts


class _Run:
    """The host side of one training program: set-up, then compiled calls of k steps with logging,
    evaluation, checkpoints and the stop signal between them, the same for every slot."""

    def __init__(
        self, config: ml_collections.ConfigDict, slots: list[Slot], dataset: Dataset, allow_change: bool
    ):
        self.config, self.slots, n_slots = config, slots, len(slots)
        batch_size = config.train.batch_size
        self.family = family = runtime.build_family(config, dataset, slots=n_slots)
        log(precision.describe(config.runtime.compute_dtype))
        self.mesh = runtime.data_mesh(batch_size, n_slots)
        arrays = feeds.device_arrays(family.data, dataset, batch_size, config.data)
        self.n_train = len(arrays["images"])
        self.aligned_b = dataset.aligned_b
        replicated = NamedSharding(self.mesh, P())
        configs = [config_lib.with_seed(config, slot.seed) for slot in slots]
        subsets = []
        for slot, slot_config in zip(slots, configs, strict=True):
            slot.manager = checkpoints.Checkpoints(slot.workdir, config.train.keep_checkpoints, log=log)
            check_resume(slot.workdir, bool(slot.manager.steps()), slot_config, allow_change, log)
            labels, key = arrays["labels"], slot.keys.labels
            subsets.append(feeds.labelled_indices(family.data, config.data, labels, key, slot.workdir))
        average = config.train.average_decay > 0
        resuming = any(slot.manager.steps() for slot in slots)
        start = None if resuming else runtime.start_params(config, family)  # a resume has its own params
        fresh = [
            runtime.init_state(family, slot.keys.init, arrays["images"], average, start) for slot in slots
        ]
        restored = checkpoints.restore_common([slot.manager for slot in slots], fresh)
        if restored is None:
            where = [str(s.workdir) for s in slots]
            raise config_lib.ConfigError(f"seeds have checkpoints at different steps in {where}: remove them")
        for slot, slot_config, subset, (_, step) in zip(slots, configs, subsets, restored, strict=True):
            if distributed.is_primary():
                (slot.workdir / "config.json").write_text(slot_config.to_json_best_effort(indent=2))
                feeds.record_labelled(slot.workdir, *subset)
            slot.last_saved = step
        if slots[0].last_saved is not None:
            more = f" (and {n_slots - 1} more seeds)" if n_slots > 1 else ""
            log(f"resuming from the checkpoint at step {slots[0].last_saved} in {slots[0].workdir}{more}")
        fresh = [f if st is None else st for f, (st, _) in zip(fresh, restored, strict=True)]
        self.stacked = n_slots > 1  # S > 1: every state, plan, key and metric has a leading slot axis
        self.ts = distributed.replicate(self._stack(fresh), replicated)
        self.data = distributed.replicate(arrays, replicated)
        labelled = None if subsets[0][0] is None else self._stack([i for i, _ in subsets])
        self.subsets = None if labelled is None else distributed.replicate(labelled, replicated)
        self.replicated = replicated
        self.pending: list[tuple[int, dict]] = []  # (first step, metrics [k] or [k, S]) still on device
        self.clock = {"time": time.perf_counter(), "step": slots[0].last_saved or 0, "wall": 0.0}
        self.bar = None

    def _stack(self, values: list):
        """Per-slot pytrees as the compiled step takes them: stacked for S > 1, the one value for S = 1."""
        return jax.tree.map(lambda *xs: jnp.stack(xs), *values) if self.stacked else values[0]

    def _of_slot(self, metric: np.ndarray, i: int) -> np.ndarray:
        """Slot i's values [k] of a metric [k] (S = 1) or [k, S]."""
        return metric[:, i] if self.stacked else metric

    def slot_state(self, i: int) -> TrainState:
        return jax.tree.map(lambda x: x[i], self.ts) if self.stacked else self.ts

    def loop(self) -> TrainState:
        config, family, slots = self.config, self.family, self.slots
        num_steps, per_step = config.train.num_steps, batches_per_step(family)
        batches_per_epoch = self.n_train // config.train.batch_size
        k = resolve_steps_per_call(config, per_step, batches_per_epoch)
        redraw = config.data.domain_a if config.data.redraw_domain_a else ""
        multi_step = make_multi_step(
            family, config.train.batch_size, self.mesh, len(slots), config.train.average_decay, redraw
        )
        data_keys = distributed.replicate(self._stack([slot.keys.data for slot in slots]), self.replicated)
        train_keys = distributed.replicate(self._stack([slot.keys.train for slot in slots]), self.replicated)
        batch_plan = (
            jax.vmap(feeds.batch_plan, in_axes=(0, None, None, 0)) if self.stacked else feeds.batch_plan
        )
        plan_of = jax.jit(batch_plan, static_argnums=2, out_shardings=self.replicated)
        plans = functools.lru_cache(maxsize=1)(
            lambda epoch: plan_of(data_keys, epoch, self.n_train, self.subsets)
        )
        start = step = self.clock["step"]
        primary = distributed.is_primary()
        if start >= num_steps and all(_finished_at(slot.workdir) == start for slot in slots):
            workdirs = ", ".join(str(slot.workdir) for slot in slots)
            log(f"{workdirs}: already trained to step {start}; nothing to do (--mode=eval evaluates again)")
            return self.ts
        for slot in slots:
            slot.writer = MetricWriter(slot.workdir, start) if primary else None
        # wall time of the training loop (compilation, periodic pictures and checkpoints included), summed
        # over resumed pieces; every train record carries it as wall_s
        self.clock.update(time=time.perf_counter(), wall=slots[0].writer.wall_s if primary else 0.0)
        self._describe(k)
        self.bar = tqdm(
            total=num_steps,
            initial=start,
            unit="step",
            dynamic_ncols=True,
            file=sys.stderr,
            mininterval=2.0,
            disable=not primary,
        )
        with StopSignal() as stop:
            while step < num_steps:
                calls = steps_in_call(step, k, num_steps, config.train)
                first_epoch = int(batches_before(family, step)) // batches_per_epoch
                call_start = time.perf_counter()
                self.ts, metrics = multi_step(
                    self.ts, self.data, plans(first_epoch), first_epoch, train_keys, calls
                )
                self.pending.append((step, metrics))
                before, step = step, step + calls
                jax.block_until_ready(self.ts["step"])  # keeps the bar honest; no data leaves the device
                if before == start:
                    log(f"first call (compilation + {calls} steps): {time.perf_counter() - call_start:.1f} s")
                self.bar.update(calls)
                if _crossed(before, step, config.train.log_every) or step == num_steps:
                    self.flush(step)
                if _crossed(before, step, config.train.checkpoint_every) and step < num_steps:
                    self.save(step)
                if _crossed(before, step, config.train.eval_every) and step < num_steps:
                    self.evaluate(step, f"{step:07d}")
                if stop.signum is not None:
                    self.save(step)
                    raise TrainingInterrupted(stop.signum, step)
            self.save(step)
        for slot, final in zip(slots, self.evaluate(step, "final"), strict=True):
            if not primary:
                continue
            if family.can.sample is not None:
                viz.save_progress_gif(slot.workdir / "samples")
                viz.save_progress_gif(slot.workdir / "samples", "pairs_*.png", name="pairs.gif")  # CoGAN
            for ability, grids, _ in runtime.IMAGE_GRIDS:
                if getattr(family.can, ability) is not None:
                    viz.save_progress_gif(slot.workdir / "samples", f"{grids}_*.png", name=f"{grids}.gif")
            (slot.workdir / "final_metrics.json").write_text(
                json.dumps({"step": step, **final}, indent=2) + "\n"
            )
        workdirs = ", ".join(str(slot.workdir) for slot in slots)
        log(f"done at step {step}; checkpoints, metrics.jsonl, tensorboard/ and samples/ are in {workdirs}")
        return self.ts

    def _describe(self, k: int) -> None:
        n_slots, family = len(self.slots), self.family
        n_params = sum(x.size for x in jax.tree.leaves(self.slot_state(0)["params"]))
        seeds = f", {n_slots} seeds {[s.seed for s in self.slots]} in one program" if n_slots > 1 else ""
        log(
            f"model {self.config.model.name}: networks {sorted(family.networks)}, {n_params:,} parameters"
            f"{seeds}; {self.mesh.devices.size} {jax.default_backend()} device(s); batch "
            f"{self.config.train.batch_size}; {k} step(s) per compiled call"
        )

    def flush(self, step: int) -> None:
        """Move pending metrics to the host, stop on a non-finite loss, write each slot's log record."""
        if not self.pending:
            return
        host, firsts = jax.device_get([m for _, m in self.pending]), [s for s, _ in self.pending]
        self.pending = []
        now = time.perf_counter()
        rate = (step - self.clock["step"]) / max(now - self.clock["time"], 1e-9)
        self.clock.update(time=now, step=step, wall=self.clock["wall"] + now - self.clock["time"])
        batch_size = self.config.train.batch_size
        for i, slot in enumerate(self.slots):
            for first, metrics in zip(firsts, host, strict=True):
                self._stop_if_not_finite(
                    slot, first, {name: self._of_slot(values, i) for name, values in metrics.items()}
                )
            means = {
                n: float(np.mean(np.concatenate([self._of_slot(m[n], i) for m in host]))) for n in host[0]
            }
            timing = {"steps_per_s": rate, "images_per_s": rate * batch_size, "wall_s": self.clock["wall"]}
            if slot.writer is not None:
                slot.writer.write("train", step, {**means, **timing})
            if i == 0:
                losses = {n: f"{v:.4g}" for n, v in means.items() if "loss" in n}
                self.bar.set_postfix({"img/s": f"{rate * batch_size:.0f}", **losses})

    def _stop_if_not_finite(self, slot: Slot, first: int, metrics: dict[str, np.ndarray]) -> None:
        for name, values in metrics.items():
            bad = np.flatnonzero(~np.isfinite(values))
            if name.endswith("loss") and bad.size:
                saved = "none (no checkpoint yet)" if slot.last_saved is None else f"step {slot.last_saved}"
                seed = f"seed {slot.seed}: " if len(self.slots) > 1 else ""
                raise NonFiniteLossError(
                    f"{seed}non-finite loss at step {first + int(bad[0]) + 1}: {name} = {values[bad[0]]}; "
                    f"last good checkpoint: {saved} in {slot.workdir / 'checkpoints'}"
                )

    def save(self, step: int) -> None:
        """Flush metrics and checkpoint every slot at step; a step already saved is not saved again (a stop
        signal can land just after a periodic save, and the loop's end may follow one)."""
        self.flush(step)
        for i, slot in enumerate(self.slots):
            if slot.last_saved != step:
                slot.manager.save(step, self.slot_state(i))
                slot.last_saved = step

    def evaluate(self, step: int, tag: str) -> list[dict]:
        """Each slot's pictures and test metrics at step."""
        results = []
        for i, slot in enumerate(self.slots):
            state, n = runtime.averaged(self.slot_state(i)), self.config.train.num_grid_images
            runtime.write_pictures(
                self.family, state, self.data, slot.keys, slot.workdir, n, tag, save=distributed.is_primary()
            )
            scores = {
                f"test_{k}": float(v)
                for k, v in runtime.evaluate_split(
                    self.family, state, self.data, aligned_b=self.aligned_b
                ).items()
            }
            if scores and slot.writer is not None:
                slot.writer.write("eval", step, scores)
                seed = f", seed {slot.seed}" if len(self.slots) > 1 else ""
                log(f"step {step}{seed}: " + ", ".join(f"{n} {v:.4f}" for n, v in scores.items()))
            results.append(scores)
        return results

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        for slot in self.slots:
            if slot.writer is not None:
                slot.writer.close()
                if slot.writer.path.exists():  # a run that failed before its first log has nothing to draw
                    viz.save_loss_curves(slot.writer.path, slot.workdir / "loss_curves.png")


def _crossed(before: int, after: int, every: int) -> bool:
    return after // every > before // every


def _finished_at(workdir: Path) -> int | None:
    """The step whose final evaluation the run in workdir wrote (None before its first end)."""
    final = workdir / "final_metrics.json"
    return json.loads(final.read_text())["step"] if final.exists() else None


def steps_in_call(step: int, k: int, num_steps: int, train: ml_collections.ConfigDict) -> int:
    """k steps from `step`, or single steps while the next log, checkpoint or evaluation step (or the end)
    is nearer than k, so periodic work happens at the configured steps and the loop compiles two call
    lengths only (each length of a scan is a program of its own)."""
    periods = (train.log_every, train.checkpoint_every, train.eval_every)
    room = min(num_steps - step, *(every - step % every for every in periods))
    return k if room >= k else 1
