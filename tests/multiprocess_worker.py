"""One process of a training run on this machine, for tests/test_multiprocess.py.

    python tests/multiprocess_worker.py PROCESS_ID NUM_PROCESSES PORT WORKDIR STEPS PARAMS_OUT

NUM_PROCESSES=1 trains alone (the reference); otherwise it joins the others through a localhost
coordinator with jax.distributed, on the CPU backend (one device per process), with gloo collectives.
The tiny DCGAN (BatchNorm: its statistics must span the global batch) trains on the synthetic digits;
the final params are written to PARAMS_OUT (.npz, leaves in tree order).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(process_id: int, num_processes: int, port: int, workdir: str, steps: int, out: str) -> None:
    from jaxgen import distributed

    if num_processes > 1:
        distributed.initialize(f"localhost:{port}", num_processes, process_id)
    import jax
    from conftest import synthetic_dataset, tiny_config

    from jaxgen import train

    config = tiny_config("gan", num_steps=steps, checkpoint_every=2, eval_every=2)
    ts = train.train(config, workdir, dataset=synthetic_dataset())
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(ts["params"])]
    np.savez(out, *leaves)
    print(f"process {jax.process_index()} of {jax.process_count()}: {jax.device_count()} devices", flush=True)


if __name__ == "__main__":
    pid, count, port, workdir, steps, out = sys.argv[1:7]
    main(int(pid), int(count), int(port), workdir, int(steps), out)
