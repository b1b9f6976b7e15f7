"""The mixed-precision policy: 'auto' measured once per machine, cached, overridable; bf16 training
tracks float32."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from conftest import synthetic_dataset, tiny_config

from jaxgen import precision, runtime
from jaxgen import train as train_lib
from jaxgen.config import ConfigError


@pytest.fixture
def unpinned(tmp_path, monkeypatch):
    """'auto' decided by the (stubbed) probe, with the cache in tmp_path."""
    monkeypatch.delenv(precision.ENV, raising=False)
    monkeypatch.setattr(precision, "cache_path", lambda: tmp_path / "precision.json")
    precision.cpu_decision.cache_clear()
    yield tmp_path / "precision.json"
    precision.cpu_decision.cache_clear()


@pytest.mark.parametrize("times,expected", [((80.0, 60.0), "bfloat16"), ((80.0, 78.0), "float32")])
def test_auto_takes_bfloat16_only_where_it_measured_faster_and_caches_the_decision(
    unpinned, monkeypatch, times, expected
):
    calls = []

    def fake_probe():
        calls.append(1)
        return dict(zip(precision.DTYPES, times, strict=True))

    monkeypatch.setattr(precision, "probe", fake_probe)
    assert precision.resolve("auto") == expected
    assert precision.resolve("float32") == "float32" and precision.resolve("bfloat16") == "bfloat16"
    record = json.loads(unpinned.read_text())
    (entry,) = record.values()
    assert entry["dtype"] == expected and entry["float32_ms"] == times[0]
    assert "measured now" in precision.describe("auto")
    # a new process (cache cleared) reads the file and measures nothing
    precision.cpu_decision.cache_clear()
    monkeypatch.setattr(precision, "probe", lambda: pytest.fail("measured again"))
    assert precision.resolve("auto") == expected and len(calls) == 1
    assert f"cached in {unpinned}" in precision.describe("auto")
    options = runtime.conv_options(tiny_config("gan").runtime)
    assert options.dtype == expected and options.dense_dtype == "float32"  # auto keeps dense layers float32
    explicit = tiny_config("gan").runtime
    explicit.compute_dtype = "bfloat16"
    assert runtime.conv_options(explicit).dense_dtype == "bfloat16"


def test_environment_settles_auto_and_rejects_unknown_dtypes(unpinned, monkeypatch):
    monkeypatch.setattr(precision, "probe", lambda: pytest.fail("measured"))
    monkeypatch.setenv(precision.ENV, "bfloat16")
    assert precision.resolve("auto") == "bfloat16"
    assert "settled by JAXGEN_COMPUTE_DTYPE" in precision.describe("auto")
    assert precision.resolve("float32") == "float32"  # an explicit config wins
    monkeypatch.setenv(precision.ENV, "float16")
    with pytest.raises(ConfigError, match="JAXGEN_COMPUTE_DTYPE='float16'"):  # one line, exit status 2
        precision.resolve("auto")


def test_probe_times_both_dtypes():
    times = precision.probe(rounds=1, batch=2)
    assert set(times) == set(precision.DTYPES) and all(t > 0 for t in times.values())


# the classifier's convs; the MLP autoencoder's dense layers (hidden 64: wide enough to take bf16)
@pytest.mark.parametrize(
    "model,overrides,loss_key,learned,params_rtol",
    [
        ("classifier", {}, "cls/loss", 0.5, 0.02),  # measured 0.93%
        # Adam at 3e-3 (so that 30 steps learn something) turns rounding into whole steps: measured 3.9%
        ("ae", {"model": {"arch": "mlp", "hidden": 64}, "optim": {"lr": 3e-3}}, "ae/loss", 0.8, 0.05),
    ],
)
def test_bfloat16_training_tracks_float32(tmp_path, model, overrides, loss_key, learned, params_rtol):
    """A model trained 30 steps on bf16 operands: its losses stay within 5% of float32's (plus 0.02)
    and its parameters within params_rtol of their norm."""
    states, losses = {}, {}
    for dtype in precision.DTYPES:
        config = tiny_config(model, num_steps=30)
        for section, fields in overrides.items():
            config[section].update(fields)
        config.runtime.compute_dtype = dtype
        states[dtype] = train_lib.train(config, tmp_path / dtype, dataset=synthetic_dataset())
        records = [json.loads(r) for r in (tmp_path / dtype / "metrics.jsonl").read_text().splitlines()]
        losses[dtype] = np.array([r[loss_key] for r in records if r["kind"] == "train"])
    ts32, ts16, loss32, loss16 = states["float32"], states["bfloat16"], losses["float32"], losses["bfloat16"]
    assert len(loss32) == 30 and loss32[-1] < learned * loss32[0]  # it learned something to track
    np.testing.assert_allclose(loss16, loss32, rtol=0.05, atol=0.02)
    flat16, flat32 = (
        np.concatenate([np.ravel(x) for x in jax.tree.leaves(ts["params"])]) for ts in (ts16, ts32)
    )
    assert np.linalg.norm(flat16 - flat32) <= params_rtol * np.linalg.norm(flat32)
