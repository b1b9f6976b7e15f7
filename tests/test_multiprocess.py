"""Two processes on this machine train one run through jax.distributed (CPU backend, a localhost
coordinator, gloo collectives) and compute what one process computes with the same global batch; two
processes resume a checkpoint written by two processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import TEST_XLA_FLAGS
from jax._src import distributed as jax_distributed_internals

from jaxgen import distributed

WORKER = Path(__file__).resolve().parent / "multiprocess_worker.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def run_processes(count: int, workdir: Path, steps: int, out: Path) -> list[str]:
    """Start `count` workers on one run and wait for all; their stderr, or a failure naming the process."""
    port = free_port()
    env = {"XLA_FLAGS": f"{TEST_XLA_FLAGS} --xla_force_host_platform_device_count=1", "JAX_PLATFORMS": "cpu"}
    import os

    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(i),
                str(count),
                str(port),
                str(workdir),
                str(steps),
                f"{out}_{i}.npz",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for i in range(count)
    ]
    logs = []
    for i, proc in enumerate(procs):
        try:
            stdout, stderr = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise AssertionError(f"process {i} of {count} did not finish") from None
        assert proc.returncode == 0, f"process {i} of {count} failed:\n{stderr[-3000:]}"
        logs.append(stdout + stderr)
    return logs


def losses(workdir: Path) -> list[dict]:
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if "loss" in k} for r in records if r["kind"] == "train"]


def params(path: Path) -> list[np.ndarray]:
    with np.load(path) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def assert_same_run(workdir_a: Path, out_a: Path, workdir_b: Path, out_b: Path) -> None:
    for got, want in zip(losses(workdir_a), losses(workdir_b), strict=True):
        assert got.keys() == want.keys()
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=2e-4, err_msg=name)
    for got, want in zip(params(out_a), params(out_b), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_two_processes_train_and_resume_like_one(tmp_path):
    """Two processes train 2 steps (a checkpoint at step 2), two processes resume it to step 4; the losses
    of every step and the final params are those of one process training 4 steps straight."""
    one, two = tmp_path / "one", tmp_path / "two"
    run_processes(1, one, 4, tmp_path / "one")
    logs = run_processes(2, two, 2, tmp_path / "half")
    assert "process 1 of 2: 2 devices" in logs[1]
    assert "[jaxgen]" in logs[0] and "[jaxgen]" not in logs[1]  # process 0 alone reports progress
    assert [p.name for p in (two / "checkpoints").iterdir() if p.name.isdigit()] == ["2"]
    logs = run_processes(2, two, 4, tmp_path / "two")
    assert "resuming from the checkpoint at step 2" in logs[0]
    assert sorted(p.name for p in (two / "checkpoints").iterdir() if p.name.isdigit()) == ["2", "4"]
    assert not list((two / "checkpoints").glob(".tmp-*"))
    assert_same_run(two, tmp_path / "two_0.npz", one, tmp_path / "one_0.npz")
    for got, want in zip(params(tmp_path / "two_1.npz"), params(tmp_path / "two_0.npz"), strict=True):
        np.testing.assert_array_equal(got, want)  # both processes hold the same replicated params


def test_shutdown_stops_the_service_a_moment_after_the_barrier(monkeypatch):
    """Process 0 leaves the run as the client's shutdown (the barrier), then the service after the grace
    period; JAX's own exit hook then finds nothing left, and a second call does nothing."""
    events = []

    class Part:
        def __init__(self, name):
            self.name = name

        def shutdown(self):
            events.append((self.name, time.monotonic()))

    state = jax_distributed_internals.State()
    state.client, state.service = Part("client"), Part("service")
    monkeypatch.setattr(jax_distributed_internals, "global_state", state)
    monkeypatch.setattr(distributed, "SERVICE_GRACE_SECONDS", 0.2)
    distributed.shutdown()
    assert [name for name, _ in events] == ["client", "service"]
    assert events[1][1] - events[0][1] >= 0.2
    assert state.client is None and state.service is None
    distributed.shutdown()
    jax_distributed_internals.shutdown()
    assert len(events) == 2
