"""A folder of PNG / JPEG images as a dataset: preparation, labels, split, the verified cache, the errors,
and the CelebA configs trained a few steps on a folder the test writes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from jaxgen import config as config_lib
from jaxgen import train as train_lib
from jaxgen.data import DataError, image_folder, load_dataset


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGEN_DATA_DIR", str(tmp_path / "cache"))


def write_folder(root, n=20, size=(40, 30), classes=("cats", "dogs")):
    """n images of size (width, height), alternating between class subfolders, PNG and JPEG; image i is
    filled with grey level 10 * i so the order can be checked."""
    for i in range(n):
        folder = root / classes[i % len(classes)] if classes else root
        folder.mkdir(parents=True, exist_ok=True)
        image = np.full((size[1], size[0], 3), 10 * i, np.uint8)
        Image.fromarray(image).save(folder / f"{i:03d}.{'png' if i % 3 else 'jpg'}")
    return root


def folder_config(path, **data):
    config = config_lib.base_config("gan", model={"width": 4})
    config.data.name = "image_folder"
    config.data.image_dir = str(path)
    config.data.image_size = 16
    for field, value in data.items():
        setattr(config.data, field, value)
    return config


def test_fit_image_crops_the_centre_square_then_resizes():
    image = np.zeros((30, 40, 1), np.uint8)
    image[:, :5] = image[:, 35:] = 255  # only the 5 columns each side lie outside the centre 30x30
    assert fit_image_max(image, 16, 0) == 0
    assert fit_image_max(image, 16, 40) == 0  # a crop larger than the shorter side is the shorter side
    wide = image.copy()
    wide[:, 5:35] = 0
    wide[14:16, 19:21] = 255  # a centre dot survives a 10x10 crop
    out = image_folder.fit_image(wide, 16, 10)
    assert out.shape == (16, 16, 1) and out[6:10, 6:10].min() > 0 and out[0, 0] == 0
    small = np.full((28, 28, 1), 7, np.uint8)
    padded = image_folder.fit_image(small, 32)
    assert padded.shape == (32, 32, 1) and padded[2:30, 2:30].min() == 7 and padded[0].max() == 0


def fit_image_max(image, size, crop):
    return int(image_folder.fit_image(image, size, crop).max())


def test_a_folder_loads_with_labels_from_subfolders_and_a_fixed_split(tmp_path):
    write_folder(tmp_path / "imgs", n=20)
    dataset = load_dataset(folder_config(tmp_path / "imgs").data)
    assert dataset.train_images.shape == (18, 16, 16, 3) and dataset.test_images.shape == (2, 16, 16, 3)
    # sorted paths: cats/000, cats/002, ... then dogs/001, ...; every 10th is a test image
    assert dataset.train_labels.tolist() == [0] * 9 + [1] * 9
    assert dataset.test_labels.tolist() == [0, 1]
    assert (
        dataset.test_images[0, 8, 8, 0] == 180 and dataset.test_images[1, 8, 8, 0] == 190
    )  # cats/018, dogs/019
    grey = load_dataset(folder_config(tmp_path / "imgs", channels=1).data)
    assert grey.train_images.shape == (18, 16, 16, 1)


def test_images_at_the_top_level_are_unlabelled(tmp_path):
    write_folder(tmp_path / "flat", n=10, classes=())
    dataset = load_dataset(folder_config(tmp_path / "flat").data)
    assert set(dataset.train_labels.tolist()) == {-1} and len(dataset.test_images) == 1


def test_the_cache_is_read_when_verified_and_rebuilt_when_not(tmp_path, capsys):
    write_folder(tmp_path / "imgs", n=10)
    config = folder_config(tmp_path / "imgs")
    first = load_dataset(config.data)
    assert "decoded" in capsys.readouterr().err
    second = load_dataset(config.data)
    assert "verified: sha256" in capsys.readouterr().err
    np.testing.assert_array_equal(first.train_images, second.train_images)
    (cache,) = (tmp_path / "cache" / "folders").glob("*.npz")
    cache.write_bytes(cache.read_bytes()[:-8] + b"tampered")
    third = load_dataset(config.data)
    assert "fails its sha256" in capsys.readouterr().err
    np.testing.assert_array_equal(first.train_images, third.train_images)
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "imgs" / "cats" / "999.png")
    assert len(load_dataset(config.data).train_images) == 10  # a new file: decoded again (11 images)


def test_bad_folders_get_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no"):
        load_dataset(folder_config(tmp_path / "empty").data)
    with pytest.raises(DataError, match="is not a folder"):
        load_dataset(folder_config(tmp_path / "missing").data)
    write_folder(tmp_path / "few", n=3)
    with pytest.raises(DataError, match="at least 10"):
        load_dataset(folder_config(tmp_path / "few").data)
    write_folder(tmp_path / "broken", n=12)
    (tmp_path / "broken" / "cats" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="bad.png"):
        load_dataset(folder_config(tmp_path / "broken").data)
    write_folder(tmp_path / "mixed", n=10)
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(tmp_path / "mixed" / "dogs" / "big.png")
    with pytest.raises(DataError, match="different sizes.*data.mixed_sizes"):
        load_dataset(folder_config(tmp_path / "mixed").data)
    assert len(load_dataset(folder_config(tmp_path / "mixed", mixed_sizes=True).data).train_images) == 10


def test_folder_fields_are_checked_with_the_config(tmp_path):
    config = folder_config(tmp_path)
    config.data.image_dir = ""
    with pytest.raises(config_lib.ConfigError, match="data.image_dir"):
        config_lib.validate(config)
    config = folder_config(tmp_path, channels=2)
    with pytest.raises(config_lib.ConfigError, match="data.channels"):
        config_lib.validate(config)
    config = folder_config(tmp_path)
    config.data.name = "mnist"
    with pytest.raises(config_lib.ConfigError, match="data.image_dir is read with"):
        config_lib.validate(config)


@pytest.mark.parametrize("path", ["configs/celeba_dcgan.py", "configs/celeba_vae.py"])
def test_the_celeba_configs_train_on_a_folder(tmp_path, path):
    """The 64x64x3 configs, shrunk to width 4 and 16x16 images, on a folder of 10 images of 90x80."""
    write_folder(tmp_path / "faces", n=10, size=(80, 90), classes=())
    config = config_lib.load_file(path)
    config_lib.validate(config)
    assert (config.data.image_size, config.data.channels, config.data.crop_size) == (64, 3, 108)
    config.data.image_dir = str(tmp_path / "faces")
    config.data.image_size = 16
    config.model.width = 4
    config.train.batch_size, config.train.num_steps, config.train.eval_every = 4, 2, 2
    config.train.num_grid_images = 4
    ts = train_lib.train(config, tmp_path / "run")
    assert int(ts["step"]) == 2
    assert (tmp_path / "run" / "samples" / "samples_final.png").exists()


def test_celeba_without_a_folder_asks_tfds_offline_then_names_the_folder_option(monkeypatch):
    import tensorflow_datasets as tfds

    calls = []

    def not_prepared(name, split, data_dir=None, download=True):
        calls.append((name, split, download))
        raise KeyError("splits is empty: the dataset has not been generated")

    monkeypatch.setattr(tfds, "data_source", not_prepared)
    config = folder_config("")
    config.data.name, config.data.image_dir = "celeba", ""
    with pytest.raises(DataError, match="--config.data.image_dir=<the img_align_celeba folder>"):
        load_dataset(config.data)
    assert calls == [("celeb_a", "train", False)]  # never a download: data loads offline
