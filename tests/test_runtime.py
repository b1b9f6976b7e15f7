"""What every mode shares: classification metrics, test-split scoring, shapes of derived domains, backend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, tiny_config

from jaxgen import runtime
from jaxgen.models import Abilities, Family


def test_classification_metrics_by_hand():
    logits = jnp.asarray([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    labels = jnp.asarray([0, 0, 0])
    out = runtime.classification_metrics(logits, labels)
    np.testing.assert_array_equal(out["accuracy"], [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(out["error"], [0.0, 1.0, 0.0])
    expected = [np.log1p(np.exp(-2.0)), np.log1p(np.exp(1.0)), np.log1p(np.exp(-3.0))]
    np.testing.assert_allclose(out["cross_entropy"], expected, rtol=1e-6)


def test_evaluate_split_merges_classification_and_the_family_metrics_independently_of_the_chunk():
    def classify(params, state, images):
        mean = images.mean(axis=(1, 2, 3))
        return jnp.stack([mean, 1.0 - mean], -1) * 10.0  # class 0 when the image is bright

    def evaluate(params, state, batch):
        return {"brightness": batch["image"].mean(axis=(1, 2, 3)), "position": batch["index"] * 1.0}

    family = Family({}, {}, {}, (), can=Abilities(classify=classify, evaluate=evaluate))
    images = np.zeros((7, 4, 4, 1), np.uint8)
    images[:3] = 255
    data = {"test_images": images, "test_labels": np.asarray([0, 0, 0, 1, 1, 1, 0], np.int32)}
    by_2 = runtime.evaluate_split(family, {"params": {}, "state": {}}, data, chunk=2)
    by_7 = runtime.evaluate_split(family, {"params": {}, "state": {}}, data, chunk=7)
    assert set(by_2) == {"accuracy", "error", "cross_entropy", "brightness", "position"}
    assert float(by_2["accuracy"]) == pytest.approx(6 / 7) and float(by_2["position"]) == pytest.approx(3.0)
    for name in by_2:
        assert float(by_2[name]) == pytest.approx(float(by_7[name]), rel=1e-6)
    assert runtime.evaluate_split(Family({}, {}, {}, ()), {}, data) == {}  # nothing to score


def test_data_shapes_follow_the_domains_without_loading_data():
    config = tiny_config("gan")
    assert runtime.data_shapes(config) == ((32, 32, 1), None)
    config.data.domain_a, config.data.domain_b = "rotated", "coloured"
    assert runtime.data_shapes(config) == ((32, 32, 1), (32, 32, 3))


def test_auto_conv_lowering_per_backend_and_number_of_slots():
    config = tiny_config("gan")
    assert runtime.conv_options(config.runtime).impl == "cpu"  # the tests run on the CPU
    assert runtime.conv_options(config.runtime, slots=3).impl == "matmul"
    config.runtime.conv_impl = "xla"
    assert runtime.conv_options(config.runtime, slots=3).impl == "xla"


def test_importing_every_module_leaves_jax_unstarted():
    """jax.distributed.initialize and XLA_FLAGS act only before JAX starts its backend, so importing jaxgen
    must not start it (a jnp constant at module level in jaxgen.layers did): devices asked for after every
    import are still the ones XLA_FLAGS names then."""
    code = textwrap.dedent(
        """
        import importlib, os, pkgutil
        import jaxgen, jaxgen.data, jaxgen.models
        for package in (jaxgen, jaxgen.data, jaxgen.models):
            for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                importlib.import_module(module.name)
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=3"
        import jax
        print(len(jax.devices()))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**env, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-1] == "3"


def test_compilation_cache_keeps_programs_from_the_configured_compile_time(tmp_path, monkeypatch):
    import jax

    from jaxgen.config import ConfigError

    try:
        monkeypatch.delenv("JAXGEN_CACHE_MIN_COMPILE_S", raising=False)
        assert runtime.enable_compilation_cache(tmp_path / "a") == tmp_path / "a"
        assert jax.config.jax_persistent_cache_min_compile_time_secs == runtime.CACHE_MIN_COMPILE_S
        monkeypatch.setenv("JAXGEN_CACHE_MIN_COMPILE_S", "0")
        runtime.enable_compilation_cache(tmp_path / "b")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
        for bad in ("fast", "-1", "nan"):
            monkeypatch.setenv("JAXGEN_CACHE_MIN_COMPILE_S", bad)
            with pytest.raises(ConfigError, match=f"JAXGEN_CACHE_MIN_COMPILE_S='{bad}': expected seconds"):
                runtime.enable_compilation_cache(tmp_path / "c")
    finally:  # the session's cache, as conftest set it up
        monkeypatch.undo()
        runtime.enable_compilation_cache()
