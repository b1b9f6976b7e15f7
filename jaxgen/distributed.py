"""Several processes, one run: JAX's own distributed runtime (`jax.distributed`), nothing home-made.

Every process runs the same program on a global mesh over all devices of all processes. Each holds the
training set on its devices (it is small) and draws the same batch plan from the seed; inside the compiled
step the global batch is sharded along its first axis, so each device gathers and computes only its own
rows, and XLA all-reduces the gradients across processes. Process 0 alone writes the workdir (config,
metrics, pictures, the digest and rename of each checkpoint) and holds its locks; every process takes part
in each orbax save and restore.
"""

from __future__ import annotations

import atexit
import time

import jax
import numpy as np
from jax._src import distributed as jax_distributed_internals

# How long process 0 keeps the coordination service up after the shutdown barrier (see `shutdown`).
SERVICE_GRACE_SECONDS = 1.0


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    local_device_ids: list[int] | None = None,
) -> None:
    """Join the run's processes. With no arguments JAX detects the cluster (a TPU pod slice, SLURM, Open
    MPI, Kubernetes); otherwise all three of coordinator, count and id are given (a localhost run, a GPU
    box with one process per GPU). On CPU the collectives go through gloo."""
    # the CPU client's collectives (a localhost run); GPU and TPU clients ignore the setting
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        local_device_ids=local_device_ids,
    )
    # One collective now, while the processes leave initialize() together: it sets up the communicator
    # over all devices that every later step reuses. Set up at the first training step instead, it failed
    # when one process compiled that step more than 30 s after the other (gloo's fixed timeout, on a
    # loaded CPU).
    barrier("jaxgen: processes joined")
    # runs before JAX's own exit hook (atexit is last in, first out), which then finds nothing to shut down
    atexit.register(shutdown)


def shutdown() -> None:
    """Leave the run: every process passes JAX's shutdown barrier, and process 0 stops the coordination
    service a moment later rather than at once.

    By our reading of jaxlib's code, its coordination service answers each RPC on a worker pool and only
    then has its RPC thread post gRPC the next request slot. If the answer that ends the shutdown barrier
    reaches process 0 first and process 0 stops the gRPC server at once (as `jax.distributed.shutdown`
    does), the slot is posted to a stopping server, whose destructor then aborts the process (`Check
    failed: queue.Pop() == nullptr`, signal 6, after the run had finished; seen once in CI on a loaded
    CPU). The wait lets the slot land first. Safe to call twice; a no-op in a single-process run."""
    state = jax_distributed_internals.global_state
    service, state.service = state.service, None
    jax.distributed.shutdown()  # preemption manager, then the client: the shutdown barrier
    if service is not None:
        time.sleep(SERVICE_GRACE_SECONDS)
        service.shutdown()


def is_primary() -> bool:
    """The process that writes the workdir."""
    return jax.process_index() == 0


def is_multiprocess() -> bool:
    return jax.process_count() > 1


def barrier(name: str) -> None:
    """Wait until every process has reached the barrier of this name (nothing to wait for alone)."""
    if is_multiprocess():
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def replicate(tree, sharding: jax.sharding.Sharding):
    """A copy of every array of tree on every device of `sharding`. Alone this is `jax.device_put`; across
    processes each builds its part of the global array from its own identical host copy (device_put only
    reaches this process's devices). PRNG keys travel as their key data."""
    if not is_multiprocess():
        return jax.device_put(tree, sharding)

    def one(x):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(one(jax.random.key_data(x)), impl=jax.random.key_impl(x))
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(one, tree)
