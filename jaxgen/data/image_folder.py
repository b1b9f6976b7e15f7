"""Any folder of PNG / JPEG images as a dataset (CelebA's img_align_celeba, anime faces, your own photos).

Images are found recursively and decoded once: centre-cropped (to data.crop_size, or the shorter side),
resized to data.image_size, converted to 1 (grey) or 3 (RGB) channels, and written to an .npz cache in
$JAXGEN_DATA_DIR/folders (numpy arrays only, loaded with allow_pickle=False) whose sha256 is checked
before it is read. The cache key covers the folder's file list (names, sizes, modification times) and the
preparation settings, so any change to either decodes again.

Labels: images in first-level subfolders get the index of their subfolder in sorted order (the torchvision
ImageFolder convention); images at the top level are unlabelled (-1). The split is fixed: every 10th image
in sorted path order is a test image.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from jaxgen.data.mnist import DataError, cache_dir, file_sha256, log

EXTENSIONS = (".png", ".jpg", ".jpeg")
TEST_EVERY = 10  # image i (sorted by path) is a test image when i % TEST_EVERY == TEST_EVERY - 1
CACHE_VERSION = 1  # bump when the preparation of an image changes


def fit_image(image: np.ndarray, image_size: int, crop_size: int = 0) -> np.ndarray:
    """uint8 [H, W, C] -> [image_size, image_size, C]: images that fit are zero-padded centrally (28x28
    digits); larger ones are centre-cropped to a crop_size square (0: the shorter side) and resized."""
    h, w = image.shape[:2]
    if h <= image_size and w <= image_size:
        top, left = (image_size - h) // 2, (image_size - w) // 2
        return np.pad(image, ((top, image_size - h - top), (left, image_size - w - left), (0, 0)))
    side = min(h, w, crop_size) if crop_size else min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side]
    from PIL import Image  # shipped with matplotlib

    resized = Image.fromarray(crop.squeeze(-1) if crop.shape[-1] == 1 else crop).resize(
        (image_size, image_size), Image.BILINEAR
    )
    return np.asarray(resized).reshape(image_size, image_size, -1)


def list_images(folder: Path) -> list[Path]:
    """Every PNG / JPEG file under folder, sorted; DataError when there is none."""
    if not folder.is_dir():
        raise DataError(f"data.image_dir={str(folder)!r} is not a folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not paths:
        raise DataError(f"data.image_dir={str(folder)!r} holds no {'/'.join(EXTENSIONS)} images")
    if len(paths) < TEST_EVERY:
        raise DataError(
            f"data.image_dir={str(folder)!r} holds {len(paths)} images; at least {TEST_EVERY} are needed "
            f"(every {TEST_EVERY}th is a test image)"
        )
    return paths


def labels_of(paths: list[Path], folder: Path) -> tuple[np.ndarray, list[str]]:
    """(int32 labels, class names): the index of each image's first-level subfolder; -1 at the top level."""
    parts = [p.relative_to(folder).parts for p in paths]
    names = sorted({part[0] for part in parts if len(part) > 1})
    index = {name: i for i, name in enumerate(names)}
    labels = np.array([index[part[0]] if len(part) > 1 else -1 for part in parts], np.int32)
    return labels, names


def read_image(path: Path, channels: int) -> np.ndarray:
    """uint8 [H, W, channels] of one file; DataError naming the file when it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
            array = np.asarray(converted, np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"cannot read image {path}: {e}") from None
    return array.reshape(*array.shape[:2], channels)


def cache_key(paths: list[Path], folder: Path, settings: dict) -> str:
    """sha256 of the file list (relative names, byte sizes, modification times) and the settings."""
    entries = []
    for p in paths:
        stat = p.stat()
        entries.append([str(p.relative_to(folder)), stat.st_size, stat.st_mtime_ns])
    record = {"version": CACHE_VERSION, "folder": str(folder), "settings": settings, "files": entries}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def read_cache(path: Path) -> np.ndarray | None:
    """The cached images, or None when the cache is missing or fails its sha256 (then it is rebuilt)."""
    record = path.with_suffix(".sha256")
    if not path.exists() or not record.exists():
        return None
    if file_sha256(path) != record.read_text().strip():
        log(f"cache {path} fails its sha256; decoding the folder again")
        return None
    with np.load(path, allow_pickle=False) as stored:
        return stored["images"]


def write_cache(path: Path, images: np.ndarray) -> None:
    """Write images and their sha256 beside them; a failure to write only costs a decode next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, images=images)
        digest = file_sha256(partial)
        os.replace(partial, path)
        path.with_suffix(".sha256").write_text(digest + "\n")
        log(f"cached as {path}")
    except OSError as e:
        log(f"could not write the cache {path} ({e}); continuing without it")


def decode_all(
    paths: list[Path], channels: int, image_size: int, crop_size: int, mixed_sizes: bool
) -> np.ndarray:
    """Decode and prepare every image (threads: PIL releases the GIL while decoding), in path order; a
    DataError (an unreadable file, a second image size) cancels the decodes still queued."""
    from tqdm import tqdm

    def prepare(path: Path) -> tuple[tuple[int, int], np.ndarray]:
        image = read_image(path, channels)
        return image.shape[:2], fit_image(image, image_size, crop_size)

    out = np.empty((len(paths), image_size, image_size, channels), np.uint8)
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        done = tqdm(pool.map(prepare, paths), total=len(paths), desc="decoding", mininterval=2)
        for i, (size, prepared) in enumerate(done):
            if i == 0:
                first = size
            elif size != first and not mixed_sizes:
                raise DataError(
                    f"images of different sizes: {paths[0]} is {first[1]}x{first[0]}, {paths[i]} is "
                    f"{size[1]}x{size[0]}; each would be cropped and resized on its own, set "
                    "data.mixed_sizes=True to accept that"
                )
            out[i] = prepared
    finally:
        pool.shutdown(cancel_futures=True)
    return out


def load(
    image_dir: str, image_size: int, channels: int, crop_size: int = 0, mixed_sizes: bool = False
) -> tuple[dict[str, np.ndarray], str]:
    """Train / test arrays of a folder of images (uint8 [N, S, S, C], int32 labels) and a description."""
    folder = Path(image_dir).expanduser().absolute()
    paths = list_images(folder)
    labels, names = labels_of(paths, folder)
    settings = {"image_size": image_size, "channels": channels, "crop": crop_size, "mixed": mixed_sizes}
    key = cache_key(paths, folder, settings)
    cache = cache_dir() / "folders" / f"{folder.name}-{key[:16]}.npz"
    images = read_cache(cache)
    if images is None or len(images) != len(paths):
        log(f"decoding {len(paths)} images of {folder} (once; cached in {cache.parent})")
        images = decode_all(paths, channels, image_size, crop_size, mixed_sizes)
        write_cache(cache, images)
        how = "decoded"
    else:
        how = f"from the cache {cache.name}, verified: sha256"
    test = np.arange(len(paths)) % TEST_EVERY == TEST_EVERY - 1
    arrays = {
        "train_images": images[~test],
        "train_labels": labels[~test],
        "test_images": images[test],
        "test_labels": labels[test],
    }
    classes = f", {len(names)} classes (subfolders)" if names else ", unlabelled"
    return arrays, f"image folder {folder} ({how}{classes})"
