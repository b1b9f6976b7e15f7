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


def sample_from_checkpoint(config: ml_collections.ConfigDict, workdir: str | Path) -> Path:
    """Write workdir/samples.npz (images [N, H, W, C] float32 in [0, 1], labels if conditional) and a grid."""
    workdir = Path(workdir)
    if config.train.compilation_cache:
        train_lib.enable_compilation_cache()
    image_shape = _image_shape(config)
    if train_lib.build_family(config, image_shape).sample is None:
        raise config_lib.ConfigError(
            f"model {config.model.name!r} does not generate images; --mode=sample needs a generative model"
        )
    family, ts = train_lib.restore_model(config, workdir, image_shape)
    arrays = train_lib.draw_many(family, ts, jax.random.key(config.sample.seed), config.sample.num)
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
