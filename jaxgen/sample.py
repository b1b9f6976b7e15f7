"""`--mode=sample`: draw images from the latest checkpoint of a workdir."""

from __future__ import annotations

from pathlib import Path

import jax
import ml_collections
import numpy as np

from jaxgen import config as config_lib
from jaxgen import train as train_lib
from jaxgen import viz
from jaxgen.data import load_dataset


def sample_from_checkpoint(config: ml_collections.ConfigDict, workdir: str | Path, chunk: int = 500) -> Path:
    """Write workdir/samples.npz (images [N, H, W, C] float32 in [0, 1], labels if conditional) and a grid."""
    workdir = Path(workdir)
    if config.train.compilation_cache:
        train_lib.enable_compilation_cache()
    image_shape = _image_shape(config)
    family = train_lib.build_family(config, image_shape)
    if family.sample is None:
        raise config_lib.ConfigError(
            f"model {config.model.name!r} does not generate images; --mode=sample needs a generative model"
        )
    template = train_lib.init_state(family, jax.random.key(0))
    manager = train_lib.checkpoint_manager(workdir, config.train.keep_checkpoints)
    ts = train_lib.restore_latest(manager, template)
    manager.close()
    if ts is None:
        raise FileNotFoundError(
            f"no checkpoint in {workdir / 'checkpoints'}; train first with the same --workdir"
        )
    key = jax.random.key(config.sample.seed)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, config.sample.num, chunk):
        n = min(chunk, config.sample.num - start)
        out = train_lib.draw_samples(family, ts["params"], ts["state"], jax.random.fold_in(key, start), n)
        for name, value in out.items():
            parts.setdefault(name, []).append(np.asarray(value))
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    path = workdir / "samples.npz"
    np.savez_compressed(path, step=int(ts["step"]), **arrays)
    viz.save_grid(workdir / "samples.png", arrays["images"][:100], columns=10)
    train_lib.log(
        f"wrote {len(arrays['images'])} samples from step {int(ts['step'])} to {path} and samples.png"
    )
    return path


def _image_shape(config: ml_collections.ConfigDict) -> tuple[int, int, int]:
    """Image shape without loading the data when it is known (MNIST: 32x32x1)."""
    if config.data.name in ("mnist", "fashion_mnist"):
        return (config.data.image_size, config.data.image_size, 1)
    return load_dataset(config.data).image_shape


__all__ = ["sample_from_checkpoint"]
