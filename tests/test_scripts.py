"""The console scripts of pyproject.toml: `jaxgen`, and mnist-style's `train-sae` / `train-aae`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from jaxgen import config as config_lib
from jaxgen import scripts


def test_the_style_flags_set_the_config():
    args = scripts.parser("", 12, "runs/style_aae").parse_args(
        ["--batch-size=100", "--epochs=3", "--lr=1e-3", "--feat-size=8", "--data-dir=/data", "--seed=5"]
    )
    aae = scripts.style_config(args, adversarial=True)
    config_lib.validate(aae)
    assert (aae.train.batch_size, aae.train.num_steps, aae.train.eval_every) == (100, 1800, 600)
    assert (aae.optim.lr, aae.model.latent_dim, aae.data.idx_dir, aae.seed) == (1e-3, 8, "/data", 5)
    assert aae.model.adversarial_weight == config_lib.base_config("style_aae").model.adversarial_weight > 0
    sae = scripts.style_config(args, adversarial=False)
    assert sae.model.adversarial_weight == 0.0
    sae_file = config_lib.load_file("configs/style_ae.py")  # the same model as the config file
    assert sae.model.to_dict() == {**sae_file.model.to_dict(), "latent_dim": 8}


@pytest.mark.parametrize("command", ["train-sae", "train-aae", "jaxgen"])
def test_the_console_scripts_are_installed_and_refuse_bad_input_in_one_line(command, tmp_path):
    path = shutil.which(command)
    assert path, f"{command} is not on PATH: install with pip install -e '.[dev]'"
    if command == "jaxgen":
        args = [path, "--config=configs/gan.py", f"--workdir={tmp_path}", "--config.train.batch_size=0"]
        expected = "train.batch_size=0 must be positive"
    else:
        args = [path, "--epochs=0", f"--ckpt-dir={tmp_path}"]
        expected = "--epochs=0 must be positive"
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert not (tmp_path / "checkpoints").exists()


def test_incomplete_multiprocess_flags_stop_in_one_line(tmp_path):
    done = subprocess.run(
        [shutil.which("jaxgen"), "--config=configs/gan.py", f"--workdir={tmp_path}", "--process_id=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "go together" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
