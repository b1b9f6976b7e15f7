"""Shared fixtures: tiny synthetic MNIST-shaped data, isolated caches, tiny configs."""

from __future__ import annotations

import gzip
import importlib.util
import os
from pathlib import Path

import flax.linen as nn
import ml_collections
import numpy as np
import pytest

from jaxgen import runtime
from jaxgen.config import base_config
from jaxgen.data import Dataset, pad_to
from jaxgen.models import ModelSpec

# The suite compiles several hundred distinct tiny programs and runs each for a few steps, so on a cold
# compilation cache (a fresh clone, CI) most of its time was LLVM optimising code that then ran for
# milliseconds. At backend optimisation level 0 the same programs compile about twice as fast (the two-step
# tests of the 25 GAN, AAE and UNIT config files from an empty cache: 218 s -> 108 s); XLA's graph
# optimisations still run, so the programs are the same computations, only less tuned machine code. For the
# same reason the fused elementwise code comes from XLA:CPU's older emitters instead of its MLIR fusion
# emitters: a tiny GAN step compiles in 0.9 s instead of 2.5 s (the whole suite from an empty cache 916 s ->
# 642 s), while its training steps run ~25% slower (AAE 3358 -> 2467 images/s), so only the tests use them.
# Set before JAX starts its backend (importing jaxgen does not start it: tests/test_runtime.py); subprocesses
# inherit them, and tests that set XLA_FLAGS for a subprocess extend TEST_XLA_FLAGS. A value the caller
# gives for either flag wins.
TEST_XLA_FLAGS = os.environ.get("XLA_FLAGS", "")
if "xla_backend_optimization_level" not in TEST_XLA_FLAGS:
    TEST_XLA_FLAGS = f"{TEST_XLA_FLAGS} --xla_backend_optimization_level=0".strip()
if "xla_cpu_use_fusion_emitters" not in TEST_XLA_FLAGS:
    TEST_XLA_FLAGS = f"{TEST_XLA_FLAGS} --xla_cpu_use_fusion_emitters=false".strip()
os.environ["XLA_FLAGS"] = TEST_XLA_FLAGS

REPO = Path(__file__).resolve().parents[1]
CONFIG_FILES = sorted((REPO / "configs").glob("*.py"))


def load_module(path: Path):
    """Import a config file by path (configs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config_file(path: Path):
    """get_config() of a configs/*.py file."""
    return load_module(path).get_config()


# 'auto' compute dtype settles to float32 without timing anything: the suite's numbers do not depend on
# whether this machine has bf16 units (tests/test_precision.py covers the measured choice).
os.environ.setdefault("JAXGEN_COMPUTE_DTYPE", "float32")

# One compilation cache for the whole session (and its subprocesses): the same tiny programs recur. It is on
# from the start, not only once a test has trained (train() turns it on): the tests that build a family and
# initialise it directly recompile the same init programs otherwise (a tiny BEGAN's: 7 s each time).
os.environ.setdefault(
    "JAXGEN_CACHE_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "jaxgen-test-xla-cache")
)
# Every program kept, not only those that took 0.5 s to compile: each train() builds a new family, so its
# small programs (pictures, evaluation, initialisation) are compiled again in every test that trains; from
# the cache they load in a fraction of that (tests/test_translation.py alone, empty cache, one process:
# 312 s -> 266 s, its 135 picture programs 31.8 s -> 7.6 s).
os.environ.setdefault("JAXGEN_CACHE_MIN_COMPILE_S", "0")
runtime.enable_compilation_cache()


def synthetic_arrays(n_train: int = 96, n_test: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """MNIST-shaped uint8 arrays: a bright square whose position encodes the label, plus noise."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            row, col = 4 + 2 * (label // 5) * 5, 3 + 4 * (label % 5)
            images[i, row : row + 6, col : col + 4] = 255
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays


def write_idx_dir(directory: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> Path:
    """Write arrays as the four standard IDX files (gzipped like the originals' ./data)."""
    from jaxgen.data.mnist import IDX_FILES, idx_bytes

    directory.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return directory


def synthetic_dataset(n_train: int = 96, n_test: int = 32) -> Dataset:
    """The synthetic arrays in jaxgen's convention (padded to 32x32x1, int32 labels)."""
    a = synthetic_arrays(n_train, n_test)
    empty = np.zeros((0, 32, 32, 1), np.uint8)
    return Dataset(
        pad_to(a["train_images"], 32), a["train_labels"].astype(np.int32),
        pad_to(a["test_images"], 32), a["test_labels"].astype(np.int32),
        empty, np.zeros((0,), np.int32), "synthetic",
    )  # fmt: skip


def toy_spec(make, **options) -> ModelSpec:
    """A ModelSpec for a test's own family: make(model, setup) -> Family; its model block holds `options`."""
    return ModelSpec(make, lambda: ml_collections.ConfigDict(options))


class ScalarParam(nn.Module):
    """One trainable scalar 'w' (initialised to `initial`), whatever the input: for toy families in tests."""

    initial: float = 0.0

    @nn.compact
    def __call__(self, x, train=True):
        return self.param("w", nn.initializers.constant(self.initial), ())


def tiny_config(model_name: str, **train):
    """A model at toy size (width 4, latent 8, MLPs of one hidden layer of 32) with batch 8 and a few
    steps; overrides go into config.train."""
    config = base_config(model_name)
    for field, value in (("width", 4), ("latent_dim", 8), ("hidden", 32), ("depth", 1)):
        if field in config.model:
            setattr(config.model, field, value)
    config.train.batch_size = 8
    config.train.num_steps = 2
    config.train.log_every = 1
    config.train.eval_every = 1000
    config.train.checkpoint_every = 1000
    config.train.num_grid_images = 4
    for key, value in train.items():
        section = "runtime" if key in ("steps_per_call", "compilation_cache") else "train"
        setattr(config[section], key, value)
    return config


@pytest.fixture(autouse=True)
def isolated_data_cache(tmp_path, monkeypatch):
    """Each test gets an empty data cache so no test sees another's (or the user's) MNIST."""
    monkeypatch.setenv("JAXGEN_DATA_DIR", str(tmp_path / "data-cache"))
    return tmp_path / "data-cache"


@pytest.fixture
def idx_dir(tmp_path) -> Path:
    """A folder with synthetic MNIST IDX files."""
    return write_idx_dir(tmp_path / "idx", synthetic_arrays())
