"""Every config file loads and validates; bad values and overrides fail with a message naming the field."""

from __future__ import annotations

import re
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
    base = config_lib.base_config(config.model.name)
    assert {s: set(v.keys()) if hasattr(v, "keys") else None for s, v in config.items()} == {
        s: set(v.keys()) if hasattr(v, "keys") else None for s, v in base.items()
    }  # files only override the fields of their model's base config


def test_config_files_cover_the_foundation_models():
    names = {load(p).model.name for p in CONFIG_FILES}
    assert {"classifier", "ae", "gan", "wgan"} <= names


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_block_validates_and_its_settings_name_shared_fields(name):
    spec = REGISTRY[name]
    config = config_lib.base_config(name)
    config_lib.validate(config)  # the family's defaults pass its own rules
    shared = config_lib.base_config()
    for field, value in spec.settings.items():
        section, key = field.split(".")
        assert section != "model" and key in shared[section], field
        assert config[section][key] == value
    for field in (*spec.choices, *spec.positive, *spec.non_negative):
        assert field in config.model, f"{name}: rule for a field it does not have: {field}"


@pytest.mark.parametrize(
    "config_file,field,value,match",
    [
        ("wgan.py", "model.name", "gann", "model.name='gann' is not a model (did you mean 'gan'?)"),
        ("wgan.py", "optim.name", "adagrad", "optim.name='adagrad' is invalid"),
        ("wgan.py", "train.batch_size", 0, "train.batch_size=0 must be positive"),
        ("wgan.py", "data.source", "idx", "data.source='idx' needs data.idx_dir"),
        ("wgan.py", "runtime.conv_impl", "cudnn", "runtime.conv_impl='cudnn' is invalid"),
        (
            "wgan.py",
            "eval.iwae_k",
            700,
            "eval.iwae_k=700 must be at most, or a multiple of, eval.iwae_chunk=500",
        ),
        ("wgan.py", "model.clip_value", 0.0, "model.clip_value=0.0 must be positive"),
        ("wgan.py", "model.critic_convs", 6, "model.critic_convs=6 halves a 32-pixel image below one pixel"),
        ("wgan.py", "data.domain_b", "edge", "data.domain_b='edge' is invalid (did you mean 'edges'?)"),
        ("ae_denoising.py", "model.input_dropout", 1.0, "model.input_dropout=1.0 must be in [0, 1)"),
        ("ae.py", "model.crop", 16, "model.crop=16 must be >= 0 and leave pixels"),
        # MNIST's blank border may be cut; a domain that paints it may not (the crop is written as 0)
        ("ae.py", "data.domain_a", "edges", None),
        ("ae.py", "data.domain_a", "coloured", "cuts a border that data.domain_a='coloured' fills"),
        ("vae.py", "data.domain_a", "negative", "cuts a border that data.domain_a='negative' fills"),
        ("ae.py", "model.code_activation", "tanh", "model.code_activation='tanh' is invalid"),
        ("vae.py", "model.depth", 0, "model.depth=0 must be positive"),
        ("vae.py", "model.decoder_dist", "laplace", "model.decoder_dist='laplace' is invalid"),
        ("vae.py", "model.kl_weight", -1.0, "model.kl_weight=-1.0 must be >= 0"),
        (
            "vae.py",
            "model.arch",
            "fully_conv",
            "model.arch='fully_conv' is invalid; choose one of ['mlp', 'conv']",
        ),
        ("aae.py", "model.prior", "swiss_roll", None),
        ("gan.py", "model.gan_loss", "hinge", "model.gan_loss='hinge' is invalid"),
        ("infogan.py", "data.image_size", 30, "data.image_size=30 must be a multiple of 4"),
        ("infogan.py", "data.image_size", 28, None),
        ("infogan.py", "model.q_init", "normal", "model.q_init='normal' is invalid"),
        ("cyclegan.py", "data.name_b", "celeba", "data.name_b='celeba': a folder of images can be domain A"),
        ("unit.py", "data.domain_b", "", "data.name_b='uci_digits' is the second domain's dataset"),
        ("unit.py", "data.train_per_class", 10, "data.train_per_class keeps the same images in both"),
        ("unit.py", "model.code_noise", -1.0, "model.code_noise=-1.0 must be >= 0"),
        ("unit.py", "model.adapt_with", "both", "model.adapt_with='both' is invalid"),
        ("unit.py", "model.feature_weight", -1.0, "model.feature_weight=-1.0 must be >= 0"),
    ],
)
def test_validate_names_the_field(config_file, field, value, match):
    config = load(REPO / "configs" / config_file)
    section, name = field.split(".")
    setattr(getattr(config, section), name, value)
    if match is None:
        config_lib.validate(config)
        return
    with pytest.raises(config_lib.ConfigError, match=re.escape(match)):
        config_lib.validate(config)


@pytest.mark.parametrize(
    "config_file,fields,match",
    [
        (
            "ae_mlp.py",
            {"recon_loss": "bce", "arch": "linear"},
            "model.arch='linear' has no output activation",
        ),
        ("ae.py", {"contractive": 0.1}, "model.contractive needs an encoder without BatchNorm"),
        ("ae_fully_conv.py", {"latent_dim": 100}, "model.latent_dim=100 must be a multiple of 16"),
        ("aae.py", {"prior": "mixture", "latent_dim": 3}, "model.prior='mixture' is a 2-D shape"),
    ],
)
def test_validate_rejects_model_field_combinations(config_file, fields, match):
    config = load(REPO / "configs" / config_file)
    for name, value in fields.items():
        setattr(config.model, name, value)
    with pytest.raises(config_lib.ConfigError, match=match.replace("(", "[(]")):
        config_lib.validate(config)


def test_a_model_block_of_another_model_is_refused():
    config = load(REPO / "configs" / "gan.py")
    config.model.name = "wgan"  # gan's block lacks wgan's clip_value and has its gan_loss
    with pytest.raises(
        config_lib.ConfigError, match=r"missing \[[^]]*'clip_value'[^]]*\].*base_config\('wgan'\)"
    ):
        config_lib.validate(config)


def test_the_base_config_is_locked_against_typos():
    with pytest.raises(AttributeError, match='Did you mean "width"'):
        config_lib.base_config("gan").model.widht = 8
    with pytest.raises(AttributeError, match="num_steps"):
        config_lib.base_config("gan", train={"nmu_steps": 3})


def test_unknown_override_is_one_line_with_a_suggestion():
    config = load(REPO / "configs" / "wgan.py")
    message = check_overrides(["prog", "--config.train.nmu_steps=3"], config)
    assert "unknown config field 'train.nmu_steps'" in message and "did you mean 'num_steps'" in message
    message = check_overrides(["prog", "--config.model.gp_weight=3"], config)  # wgan_gp's, not wgan's
    assert "unknown config field 'model.gp_weight'" in message and "clip_value" in message
    assert check_overrides(["prog", "--config.train.num_steps=3", "--workdir=x"], config) is None


def test_cli_rejects_bad_override_and_missing_file_without_traceback(tmp_path):
    for args in (["--config=configs/wgan.py", "--config.optim.lrr=1"], ["--config=configs/missing.py"]):
        result = subprocess.run(
            [sys.executable, "-m", "jaxgen.main", *args, f"--workdir={tmp_path}"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.startswith("jaxgen: ")
