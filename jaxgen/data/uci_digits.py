"""The UCI handwritten digits (Alpaydin & Kaynak 1998) as bundled with scikit-learn: a real second digit
domain that ships offline, other writers and another scanner than MNIST's.

1,797 images of 8x8 with 17 grey levels (0-16): each 32x32 binary bitmap counted in 4x4 blocks. They are
scaled to 0-255 and resized (bilinear) to 20x20, MNIST's digit box, so that zero-padded to 32x32 they sit in
the frame where MNIST's digits sit. The split is fixed: every fourth image (index % 4 == 0) is a test image,
450 test and 1,347 training images. Small: a target of adaptation or transfer, not a dataset to train a GAN
on alone.

The decompressed CSV is checked against its sha256 before it is parsed (no pickle anywhere).
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data.mnist import DataError, check_sha256

CSV_SHA256 = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"  # of digits.csv (1,797 rows)
DIGIT_BOX = 20  # side of MNIST's digit box inside its 28x28 images
TEST_EVERY = 4  # image i is a test image when i % TEST_EVERY == 0


def bundled_file() -> Path:
    """scikit-learn's copy of the data, digits.csv.gz."""
    import sklearn

    return Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"


def read_rows(path: Path) -> np.ndarray:
    """[1797, 65] integers (64 pixels in 0-16, then the label) from a verified digits.csv.gz."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read the UCI digits file {path}: {e}") from e
    # a damaged install of scikit-learn, or a release that changed the file
    check_sha256(raw, CSV_SHA256, f"the UCI digits in {path} (decompressed)", "parse it")
    return np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)


def to_digit_box(pixels: np.ndarray) -> np.ndarray:
    """[N, 64] grey levels 0-16 -> uint8 [N, 20, 20] in 0-255 (bilinear, edges kept)."""
    images = jnp.asarray(pixels.reshape(-1, 8, 8), jnp.float32) * (255.0 / 16.0)
    resized = jax.image.resize(images, (len(pixels), DIGIT_BOX, DIGIT_BOX), "linear", antialias=False)
    return np.asarray(jnp.clip(jnp.round(resized), 0, 255)).astype(np.uint8)


def load(path: Path | None = None) -> tuple[dict[str, np.ndarray], str]:
    """The fixed split as uint8 images [N, 20, 20] and uint8 labels, and a description of the source."""
    path = bundled_file() if path is None else Path(path)
    rows = read_rows(path)
    images, labels = to_digit_box(rows[:, :64]), rows[:, 64].astype(np.uint8)
    test = np.arange(len(rows)) % TEST_EVERY == 0
    arrays = {
        "train_images": images[~test],
        "train_labels": labels[~test],
        "test_images": images[test],
        "test_labels": labels[test],
    }
    return arrays, f"UCI digits from {path}, verified: sha256 of digits.csv"
