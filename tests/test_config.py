"""Every config file loads and validates; bad values and overrides fail with a message naming the field."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import CONFIG_FILES, REPO, load_config_file, load_module

from jaxgen import config as config_lib
from jaxgen.main import check_overrides
from jaxgen.models import REGISTRY

load = load_config_file


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_every_config_file_loads_and_names_a_registered_model(path):
    config = load(path)
    assert config.model.name in REGISTRY
    config_lib.validate(config)
    assert f"--config=configs/{path.name}" in load_module(path).__doc__  # docstring gives the command
    assert set(config.keys()) == set(config_lib.base_config().keys())  # files only override


def test_config_files_cover_the_foundation_models():
    names = {load(p).model.name for p in CONFIG_FILES}
    assert {"classifier", "ae", "gan", "wgan"} <= names


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("model.name", "gann", "model.name='gann' is not a model"),
        ("optim.name", "adagrad", "optim.name='adagrad' is invalid"),
        ("train.batch_size", 0, "train.batch_size=0 must be positive"),
        ("data.source", "idx", "data.source='idx' needs data.idx_dir"),
        ("model.conv_impl", "cudnn", "model.conv_impl='cudnn' is invalid"),
        ("eval.iwae_k", 700, "eval.iwae_k=700 must be at most, or a multiple of, eval.iwae_chunk=500"),
        ("model.input_dropout", 1.0, r"model.input_dropout=1.0 must be in \[0, 1\)"),
        ("model.crop", 16, "model.crop=16 must be >= 0 and leave pixels"),
        ("model.code_activation", "tanh", "model.code_activation='tanh' is invalid"),
        ("model.depth", 0, "model.depth=0 must be positive"),
        ("model.decoder_dist", "laplace", "model.decoder_dist='laplace' is invalid"),
        ("model.kl_weight", -1.0, "model.kl_weight=-1.0 must be >= 0"),
    ],
)
def test_validate_names_the_field(field, value, match):
    config = load(REPO / "configs" / "wgan.py")
    section, name = field.split(".")
    setattr(getattr(config, section), name, value)
    with pytest.raises(config_lib.ConfigError, match=match.replace("(", r"\(")):
        config_lib.validate(config)


@pytest.mark.parametrize(
    "config_file,fields,match",
    [
        ("vae.py", {"arch": "fully_conv"}, "model.arch='fully_conv' is not an architecture of model 'vae'"),
        (
            "ae_mlp.py",
            {"recon_loss": "bce", "arch": "linear"},
            "model.arch='linear' has no output activation",
        ),
        ("ae.py", {"contractive": 0.1}, "model.contractive needs an encoder without BatchNorm"),
        ("ae_fully_conv.py", {"latent_dim": 100}, "model.latent_dim=100 must be a multiple of 16"),
    ],
)
def test_validate_rejects_model_field_combinations(config_file, fields, match):
    config = load(REPO / "configs" / config_file)
    for name, value in fields.items():
        setattr(config.model, name, value)
    with pytest.raises(config_lib.ConfigError, match=match.replace("(", "[(]")):
        config_lib.validate(config)


def test_unknown_override_is_one_line_with_a_suggestion():
    message = check_overrides(["prog", "--config.train.nmu_steps=3"])
    assert "unknown config field 'train.nmu_steps'" in message and "did you mean 'num_steps'" in message
    assert check_overrides(["prog", "--config.train.num_steps=3", "--workdir=x"]) is None


def test_cli_rejects_bad_override_and_missing_file_without_traceback(tmp_path):
    for args in (["--config=configs/wgan.py", "--config.optim.lrr=1"], ["--config=configs/missing.py"]):
        result = subprocess.run(
            [sys.executable, "-m", "jaxgen.main", *args, f"--workdir={tmp_path}"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.startswith("jaxgen: ")
