"""The compiled training step: a family's updates in order on one batch each, for S run slots at once.

Pure functions of (state, data, plan, first epoch, key): `jaxgen.train` runs them and owns every side
effect. The step's key is `fold_in(train_key, step)`, each update repetition folds its own key and draws
its own batch (jaxgen/data/feeds.py), and batches are sharded over the devices along the batch axis.
"""

from __future__ import annotations

import functools
import os

import jax
import ml_collections
import optax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgen import config as config_lib
from jaxgen.data import feeds
from jaxgen.models import Family
from jaxgen.runtime import TrainState

# Steps per compiled call (one lax.scan). On a 2-core CPU 10 steps per call trained 1.1-1.5x faster than
# one (classifier 28 -> 41 steps/s, DCGAN 7.6 -> 8.9, MLP VAE 278 -> 307; experiments/README.md); on
# accelerators fusing steps removes per-call dispatch.
DEFAULT_STEPS_PER_CALL = {"cpu": 10, "gpu": 50, "tpu": 50}


def batches_per_step(family: Family) -> int:
    """The most batches one step draws: every update repetition draws its own batch (WGAN's critic sees 5
    fresh batches per step, or 100 on its boosted steps)."""
    return sum(u.repeat if isinstance(u.repeat, int) else u.repeat.most for u in family.updates)


def batches_before(family: Family, step):
    """Batches drawn by all steps before step (a Python int or a traced step)."""
    return sum(
        u.repeat * step if isinstance(u.repeat, int) else u.repeat.before(step) for u in family.updates
    )


# ----------------------------------------------------------------------------------------- the step


def average_rate(step, decay: float):
    """How far step number `step` (from 0) moves the params' running average: the plain mean of the
    steps so far until 1 / (1 - decay) steps, then an exponential average (no bias towards the start)."""
    return jax.numpy.maximum(1.0 - decay, 1.0 / (step + 1.0))


def make_train_step(
    family: Family, batch_size: int, mesh: jax.sharding.Mesh, average_decay: float = 0.0, redraw: str = ""
):
    """One training step: run the family's updates in order (then move the params' running average when
    average_decay > 0); redraw: the domain each batch's images are transformed into afresh
    (data.redraw_domain_a). Pure: (state, data, ...) -> (state, metrics)."""
    batch_sharding = NamedSharding(mesh, P("data"))

    def apply_update(update, params, model_state, opt_state, batch, key):
        state_before = model_state

        def objective(trainable, model_state):
            return update.loss({**params, **trainable}, model_state, batch, key)

        trainable = {name: params[name] for name in update.networks}
        (loss, (metrics, model_state)), grads = jax.value_and_grad(objective, has_aux=True)(
            trainable, model_state
        )
        new_params, new_opt_state = dict(params), dict(opt_state)
        own = update.optimizer is not None  # the update's own optimizer state, else each network's
        states = dict(opt_state["phases"][update.name]) if own else new_opt_state
        for name in update.networks:
            optimizer = update.optimizer if own else family.optimizers[name]
            updates, states[name] = optimizer.update(grads[name], states[name], params[name])
            new_params[name] = optax.apply_updates(params[name], updates)
        if own:
            new_opt_state["phases"] = {**opt_state["phases"], update.name: states}
        if update.when is None:
            return new_params, model_state, new_opt_state, {"loss": loss, **metrics}
        applied = update.when(state_before)
        keep = functools.partial(jax.tree.map, lambda new, old: jax.numpy.where(applied, new, old))
        params, opt_state = keep((new_params, new_opt_state), (params, opt_state))
        metrics = {"loss": loss, **metrics, "applied": applied.astype(jax.numpy.float32)}
        return params, model_state, opt_state, metrics

    def repetition(update, carry, counter, draw, data, plan, first_epoch, key):
        """Apply the update once to the batch number `counter` (counted from the start of training); its
        key is the step key folded with the step's repetition number `draw` + 1."""
        update_key = jax.random.fold_in(key, draw + 1)
        batch = feeds.draw(family.data, data, plan, first_epoch, counter, update_key, batch_size, redraw)
        batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        return apply_update(update, *carry, batch, update_key)

    def train_step(ts: TrainState, data, plan, first_epoch, train_key) -> tuple[TrainState, dict]:
        step = ts["step"]
        key = jax.random.fold_in(train_key, step)
        carry = (ts["params"], ts["state"], ts["opt_state"])
        first = batches_before(family, step)  # batches drawn by earlier steps (integer: exact)
        metrics, draw = {}, 0
        for update in family.updates:
            inputs = (data, plan, first_epoch, key)
            if update.repeat == 1:
                *carry, update_metrics = repetition(update, carry, first + draw, draw, *inputs)
                draw += 1
            else:  # one loop body, the metrics of the last repetition: not unrolled (WGAN-GP's 5 critic
                # updates as a loop: step 1.33 -> 0.94 s, cached compile 2.2 -> 1.0 s on a CPU)

                @jax.jit  # traced once: the shapes of its metrics below, then the loop reuses that trace
                def once(i, carry, update=update, draw=draw, inputs=inputs):
                    return repetition(update, carry, first + draw + i, draw + i, *inputs)

                count = update.repeat if isinstance(update.repeat, int) else update.repeat.count(step)
                metrics_shapes = jax.eval_shape(once, 0, tuple(carry))[3]  # 0: the loop index's weak int32
                zeros = jax.tree.map(lambda x: jax.numpy.zeros(x.shape, x.dtype), metrics_shapes)

                def body(i, loop, once=once):
                    return once(i, loop[:3])

                *carry, update_metrics = jax.lax.fori_loop(0, count, body, (*carry, zeros))
                draw = draw + count
            metrics.update({f"{update.name}/{k}": v for k, v in update_metrics.items()})
        params, model_state, opt_state = carry
        new_ts = {"step": step + 1, "params": params, "state": model_state, "opt_state": opt_state}
        if average_decay:
            rate = average_rate(step, average_decay)
            new_ts["average"] = {
                name: jax.tree.map(lambda a, p: a + rate * (p - a), average, params[name])
                for name, average in ts["average"].items()
            }
        return new_ts, metrics

    return train_step


# Region analysis in XLA's copy insertion. Without it XLA:CPU copied Adam's moments and the params at the top
# of every step of the compiled loop (17 parameter-sized copies in the MLP AE's step): each param's fused
# update recomputes the new first moment from the old one, which the moment's own in-place update has
# overwritten by then. With it those copies go and the step computes the same bits: the MLP models' steps
# 4-14% faster, the style AAE's 2-4% slower (README "Loop-carried copies"). Other backends ignore it.
REGION_ANALYSIS = "xla_cpu_copy_insertion_use_region_analysis"


def step_compiler_options() -> dict[str, bool]:
    """XLA options of the compiled training step; a value of the same flag in XLA_FLAGS wins (so
    XLA_FLAGS=--xla_cpu_copy_insertion_use_region_analysis=false times the step without it)."""
    return {} if REGION_ANALYSIS in os.environ.get("XLA_FLAGS", "") else {REGION_ANALYSIS: True}


def make_multi_step(
    family: Family,
    batch_size: int,
    mesh: jax.sharding.Mesh,
    slots: int = 1,
    average_decay: float = 0.0,
    redraw: str = "",
):
    """k steps per compiled call; the metrics come back stacked [k]. With S > 1 run slots the step is
    vmapped: states, plans and keys carry a leading [S] axis and the metrics are [k, S]. One slot runs the
    plain step on unstacked arguments (a stacked axis of 1 changed XLA's fusions and float rounding). The
    state buffers are donated."""
    step = make_train_step(family, batch_size, mesh, average_decay, redraw)
    slot_step = step if slots == 1 else jax.vmap(step, in_axes=(0, None, 0, None, 0))

    @functools.partial(
        jax.jit, static_argnames="k", donate_argnums=0, compiler_options=step_compiler_options()
    )
    def multi_step(ts, data, plans, first_epoch, keys, k: int):
        if k == 1:
            ts, metrics = slot_step(ts, data, plans, first_epoch, keys)
            return ts, jax.tree.map(lambda x: x[None], metrics)
        return jax.lax.scan(lambda s, _: slot_step(s, data, plans, first_epoch, keys), ts, None, length=k)

    return multi_step


def resolve_steps_per_call(config: ml_collections.ConfigDict, per_step: int, batches_per_epoch: int) -> int:
    """Configured steps per call, or the per-backend default; bounded so a call spans at most 2 epochs."""
    k = config.runtime.steps_per_call or DEFAULT_STEPS_PER_CALL.get(jax.default_backend(), 1)
    k = min(k, config.train.log_every, config.train.num_steps)
    if k * per_step > batches_per_epoch:
        if config.runtime.steps_per_call:
            raise config_lib.ConfigError(
                f"runtime.steps_per_call={k} needs {k * per_step} batches per call, more than one epoch "
                f"({batches_per_epoch} batches); lower it"
            )
        k = max(1, batches_per_epoch // per_step)
    return k
