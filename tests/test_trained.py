"""jaxgen.load: a trained workdir in three lines of Python, with what its family can do."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import synthetic_dataset, tiny_config

import jaxgen
from jaxgen import config as config_lib
from jaxgen import runtime
from jaxgen import train as train_lib


def test_a_trained_gan_samples_in_three_lines(tmp_path):
    ts = train_lib.train(tiny_config("gan", num_steps=2), tmp_path / "gan", dataset=synthetic_dataset())
    model = jaxgen.load(tmp_path / "gan")
    images = model.sample(6, seed=3)
    assert images.shape == (6, 32, 32, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and model.step == 2
    np.testing.assert_array_equal(images, model.sample(6, seed=3))
    assert not np.array_equal(images, model.sample(6, seed=4))
    drawn = runtime.draw_many(model.family, ts, jax.random.key(3), 6)["images"]
    np.testing.assert_allclose(images, drawn, atol=1e-6)  # the final state of the run, restored
    with pytest.raises(config_lib.ConfigError, match="'gan' cannot reconstruct"):
        model.reconstruct(np.zeros((1, 32, 32, 1), np.uint8))


def test_an_autoencoder_reconstructs_and_encodes(tmp_path):
    dataset = synthetic_dataset()
    train_lib.train(tiny_config("ae", num_steps=2), tmp_path / "ae", dataset=dataset)
    model = jaxgen.load(tmp_path / "ae")
    images = dataset.test_images[:4]
    recon = model.reconstruct(images)
    assert recon.shape == (4, 32, 32, 1)
    np.testing.assert_allclose(recon, model.reconstruct(images / 255.0), atol=1e-6)  # uint8 or [0, 1]
    assert model.encode(images).shape[0] == 4


def test_abilities_run_chunk_by_chunk_with_the_same_result(tmp_path):
    """Whole test splits go through config.eval.chunk rows at a time (a ragged last chunk included),
    and give what one pass over all the rows gives."""
    dataset = synthetic_dataset()
    train_lib.train(tiny_config("ae", num_steps=2), tmp_path / "ae", dataset=dataset)
    model = jaxgen.load(tmp_path / "ae")
    images = dataset.test_images[:7]
    whole = model.reconstruct(images)
    model.config.eval.chunk = 3
    np.testing.assert_allclose(model.reconstruct(images), whole, atol=1e-6)
    direct = model.family.can.reconstruct(model.state["params"], model.state["state"], images / 255.0)
    np.testing.assert_allclose(whole, np.asarray(direct), atol=1e-6)


def test_load_names_a_workdir_without_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        jaxgen.load(tmp_path / "nothing")
