"""Transfer learning: a run that starts from another run's params (train.init_from), frozen params
(train.frozen: the linear probe) and the few-labels training sets (data.train_per_class)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import synthetic_dataset, tiny_config

from jaxgen import config as config_lib
from jaxgen import runtime
from jaxgen import train as train_lib
from jaxgen.data import DataError, per_class_subset
from jaxgen.optim import param_path


def _leaves(params, prefix):
    return {
        param_path(p): np.asarray(v)
        for p, v in jax.tree_util.tree_leaves_with_path(params)
        if param_path(p).startswith(prefix)
    }


def test_per_class_subset_keeps_n_of_each_class_chosen_by_the_seed():
    dataset = synthetic_dataset(n_train=96)
    subset = per_class_subset(dataset, 3, seed=0)
    assert np.bincount(subset.train_labels).tolist() == [3] * 10
    assert len(subset.test_images) == len(dataset.test_images)
    again, other = per_class_subset(dataset, 3, seed=0), per_class_subset(dataset, 3, seed=1)
    np.testing.assert_array_equal(subset.train_images, again.train_images)
    assert not np.array_equal(subset.train_images, other.train_images)
    # each kept image is the training image it was, with its own label
    for image, label in zip(subset.train_images, subset.train_labels, strict=True):
        match = np.flatnonzero((dataset.train_images == image).all(axis=(1, 2, 3)))
        assert dataset.train_labels[match[0]] == label
    with pytest.raises(DataError, match="data.train_per_class=20: class 0 has only 10"):
        per_class_subset(dataset, 20, seed=0)


def test_a_run_starts_from_another_and_frozen_layers_never_move(tmp_path):
    dataset = synthetic_dataset()
    source = train_lib.train(tiny_config("classifier", num_steps=3), tmp_path / "source", dataset=dataset)
    probe = tiny_config("classifier", num_steps=3)
    probe.train.init_from = str(tmp_path / "source")
    probe.train.frozen = "cls/DownStack_0"
    probe.seed = 5
    probed = train_lib.train(probe, tmp_path / "probe", dataset=dataset)
    body, head = _leaves(source["params"], "cls/DownStack_0"), _leaves(source["params"], "cls/Dense_0")
    assert body and head
    for name, value in _leaves(probed["params"], "cls/DownStack_0").items():
        np.testing.assert_array_equal(value, body[name])  # taken, then frozen
    assert any(not np.array_equal(v, head[n]) for n, v in _leaves(probed["params"], "cls/Dense_0").items())
    # fine-tuning: the same start, every param trained
    tune = probe.copy_and_resolve_references()
    tune.train.frozen = ""
    tuned = train_lib.train(tune, tmp_path / "tune", dataset=dataset)
    moved = _leaves(tuned["params"], "cls/DownStack_0")
    assert any(not np.array_equal(v, body[n]) for n, v in moved.items())
    # the frozen run's checkpoint restores for evaluation (its optimizer state has the freezing transform)
    _, restored = runtime.restore_model(probe, tmp_path / "probe")
    np.testing.assert_array_equal(
        np.asarray(restored["params"]["cls"]["Dense_0"]["kernel"]),
        probed["params"]["cls"]["Dense_0"]["kernel"],
    )


def test_bad_starts_and_frozen_paths_are_refused_naming_the_field(tmp_path):
    dataset = synthetic_dataset()
    config = tiny_config("classifier")
    config.train.init_from = str(tmp_path / "nothing")
    with pytest.raises(config_lib.ConfigError, match="train.init_from=.*nothing: no checkpoint"):
        train_lib.train(config, tmp_path / "a", dataset=dataset)
    train_lib.train(tiny_config("gan"), tmp_path / "gan", dataset=dataset)
    config.train.init_from = str(tmp_path / "gan")
    with pytest.raises(config_lib.ConfigError, match="none of its params fits this model"):
        train_lib.train(config, tmp_path / "b", dataset=dataset)
    config = tiny_config("classifier")
    config.train.frozen = "cls/Encoder"
    with pytest.raises(
        config_lib.ConfigError, match=r"train.frozen: 'cls/Encoder' names no parameter.*DownStack_0"
    ):
        train_lib.train(config, tmp_path / "c", dataset=dataset)
    ssaae = tiny_config("ssaae")
    ssaae.train.frozen = "enc"
    with pytest.raises(config_lib.ConfigError, match="own optimizers"):
        runtime.build_family(ssaae, dataset)


def test_only_some_classes_in_every_split_with_their_labels():
    from jaxgen.data import only_classes, parse_classes

    dataset = synthetic_dataset(n_train=96, n_test=32)
    upper = only_classes(dataset, parse_classes("9, 5,6,7,8"))
    for split in ("train", "test"):
        labels = getattr(upper, f"{split}_labels")
        assert set(labels.tolist()) == {5, 6, 7, 8, 9}
        original = getattr(dataset, f"{split}_labels")
        np.testing.assert_array_equal(
            getattr(upper, f"{split}_images"), getattr(dataset, f"{split}_images")[original >= 5]
        )
    for bad in ("", "a,b", "3,12"):
        with pytest.raises(DataError, match="data.classes"):
            parse_classes(bad)


def test_bad_classes_are_refused_when_the_config_is_validated():
    config = tiny_config("classifier")
    config.data.classes = "0,1,x"
    with pytest.raises(config_lib.ConfigError, match="data.classes='0,1,x' must list digits"):
        config_lib.validate(config)


def test_an_autoencoders_encoder_starts_a_classifiers_body_through_a_rename(tmp_path):
    dataset = synthetic_dataset()
    ae = tiny_config("ae", num_steps=2)
    ae.model.arch = "conv"
    source = train_lib.train(ae, tmp_path / "ae", dataset=dataset)
    encoder = _leaves(source["params"], "enc/DownStack_0")
    config = tiny_config("classifier", num_steps=1)
    config.train.init_from = str(tmp_path / "ae")
    with pytest.raises(config_lib.ConfigError, match="none of its params fits"):  # 'enc' is not 'cls'
        train_lib.train(config, tmp_path / "plain", dataset=dataset)
    config.train.init_rename = "enc/DownStack_0=cls/DownStack_0"
    config.train.frozen = "cls/DownStack_0"
    probed = train_lib.train(config, tmp_path / "probe", dataset=dataset)
    body = _leaves(probed["params"], "cls/DownStack_0")
    assert body.keys() == {name.replace("enc/", "cls/", 1) for name in encoder}
    for name, value in body.items():
        np.testing.assert_array_equal(value, encoder[name.replace("cls/", "enc/", 1)])
    for bad in ("enc/DownStack_0", "=cls", "enc/DownStack_0=cls/DownStack_0,oops"):
        config.train.init_rename = bad
        with pytest.raises(config_lib.ConfigError, match="train.init_rename"):
            config_lib.validate(config)
    config.train.init_from, config.train.init_rename = "", "enc=cls"
    with pytest.raises(config_lib.ConfigError, match="train.init_from, which is empty"):
        config_lib.validate(config)
