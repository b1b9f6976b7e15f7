"""`--mode=sample`: draw images from the latest checkpoint of a workdir, or, for a model that translates
between domains, translate the first test images of domain A."""

from __future__ import annotations

from pathlib import Path

import jax
import ml_collections
import numpy as np

from jaxgen import config as config_lib
from jaxgen import runtime, viz
from jaxgen.data import load_dataset
from jaxgen.workdir import check_usable


def sample_from_checkpoint(config: ml_collections.ConfigDict, workdir: str | Path) -> Path:
    """Write workdir/samples.npz (images [N, H, W, C] float32 in [0, 1], and the labels or codes that drew
    them; a translating model's "inputs" and their "labels") and a grid."""
    workdir = Path(workdir)
    check_usable(workdir, create=False)
    runtime.prepare_backend(config)
    family = runtime.build_family(config)
    if family.can.sample is None and family.can.translate is None:
        raise config_lib.ConfigError(
            f"model {config.model.name!r} does not generate images; --mode=sample needs a generative model"
        )
    family, ts = runtime.restore_model(config, workdir)
    if family.can.sample is not None:
        arrays = runtime.draw_many(family, ts, jax.random.key(config.sample.seed), config.sample.num)
    else:
        dataset = load_dataset(config.data)
        inputs = dataset.test_images[: config.sample.num]
        images = runtime.apply_to_images(family, "translate", ts["params"], ts["state"], inputs)
        labels = dataset.test_labels[: config.sample.num]
        arrays = {"images": np.asarray(images), "inputs": inputs / 255.0, "labels": labels}
    path = workdir / "samples.npz"
    np.savez_compressed(path, step=int(ts["step"]), **arrays)
    viz.save_grid(workdir / "samples.png", arrays["images"][:100], columns=10)
    runtime.log(
        f"wrote {len(arrays['images'])} samples from step {int(ts['step'])} to {path} and samples.png"
    )
    return path


__all__ = ["sample_from_checkpoint"]
