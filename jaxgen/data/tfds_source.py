"""TensorFlow Datasets by name through `tfds.data_source` (random access, no TensorFlow needed)."""

from __future__ import annotations

import numpy as np

from jaxgen.data.image_folder import fit_image
from jaxgen.data.mnist import DataError, log


def _images_and_labels(source, image_size: int, crop_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read every record; returns uint8 images [N, H, W, C] and int labels (-1 when the dataset has none)."""
    n = len(source)
    images, labels = [], np.full((n,), -1, np.int32)
    for i in range(n):
        record = source[i]
        images.append(fit_image(np.asarray(record["image"]), image_size, crop_size))
        if "label" in record:
            labels[i] = int(record["label"])
    return np.stack(images), labels


def load_tfds(name: str, image_size: int, data_dir: str = "", crop_size: int = 0) -> dict[str, np.ndarray]:
    """Load train and test splits of a TFDS image dataset as uint8 arrays at image_size (larger images
    centre-cropped to crop_size, 0: their shorter side, then resized)."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - declared dependency
        raise DataError(f"tensorflow-datasets is not importable: {e}") from e
    arrays = {}
    for split in ("train", "test"):
        log(f"reading TFDS {name}:{split} with tfds.data_source")
        try:
            source = tfds.data_source(name, split=split, data_dir=data_dir or None, download=False)
        except Exception as e:  # TFDS raises many types for missing data
            raise DataError(f"TFDS could not provide {name}:{split}: {type(e).__name__}: {e}") from e
        images, labels = _images_and_labels(source, image_size, crop_size)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays
