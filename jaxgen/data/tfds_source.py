"""TensorFlow Datasets by name through `tfds.data_source` (random access, no TensorFlow needed)."""

from __future__ import annotations

import numpy as np

from jaxgen.data.mnist import DataError, log


def _images_and_labels(source, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read every record; returns uint8 images [N, H, W, C] and int labels (-1 when the dataset has none)."""
    n = len(source)
    images, labels = [], np.full((n,), -1, np.int32)
    for i in range(n):
        record = source[i]
        images.append(_prepare(np.asarray(record["image"]), image_size))
        if "label" in record:
            labels[i] = int(record["label"])
    return np.stack(images), labels


def _prepare(image: np.ndarray, image_size: int) -> np.ndarray:
    """Pad 28x28 digits with zeros to image_size; centre-crop and resize larger photos (CelebA) to it."""
    h, w = image.shape[:2]
    if h <= image_size and w <= image_size:
        top, left = (image_size - h) // 2, (image_size - w) // 2
        pad = ((top, image_size - h - top), (left, image_size - w - left), (0, 0))
        return np.pad(image, pad)
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side]
    from PIL import Image  # shipped with matplotlib

    resized = Image.fromarray(crop.squeeze(-1) if crop.shape[-1] == 1 else crop).resize(
        (image_size, image_size), Image.BILINEAR
    )
    return np.asarray(resized).reshape(image_size, image_size, -1)


def load_tfds(name: str, image_size: int, data_dir: str = "") -> dict[str, np.ndarray]:
    """Load train and test splits of a TFDS image dataset as uint8 arrays at image_size."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - declared dependency
        raise DataError(f"tensorflow-datasets is not importable: {e}") from e
    arrays = {}
    for split in ("train", "test"):
        log(f"reading TFDS {name}:{split} with tfds.data_source")
        try:
            source = tfds.data_source(name, split=split, data_dir=data_dir or None)
        except Exception as e:  # TFDS raises many types for missing data
            raise DataError(f"TFDS could not provide {name}:{split}: {type(e).__name__}: {e}") from e
        images, labels = _images_and_labels(source, image_size)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays
