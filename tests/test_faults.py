"""Fault injection: damaged checkpoints, mismatched resumes, busy and unusable workdirs, damaged data,
torn logs and broken config files. Each must end in a clear line (exit status 2 from the command line)
and lose nothing already written; a damaged checkpoint is set aside and the run resumes from an intact one.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, synthetic_arrays, synthetic_dataset, tiny_config, write_idx_dir

from jaxgen import checkpoints, runtime
from jaxgen import data as data_lib
from jaxgen import train as train_lib
from jaxgen import workdir as workdir_lib
from jaxgen.config import base_config
from jaxgen.data import DataError, mnist


def flat(tree) -> dict[str, np.ndarray]:
    return {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_leaves_with_path(tree)}


def gan(num_steps: int):
    """A tiny GAN checkpointed every 2 steps, all checkpoints kept."""
    return tiny_config("gan", num_steps=num_steps, checkpoint_every=2, keep_checkpoints=10, log_every=2)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted 8-step run every damaged-and-resumed run must end at, bit for bit."""
    return flat(
        train_lib.train(gan(8), tmp_path_factory.mktemp("reference"), dataset=synthetic_dataset())["params"]
    )


def largest_file(folder: Path) -> Path:
    return max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)


def flip_one_bit(step: Path) -> None:
    path = largest_file(step)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


def garbage_bytes(step: Path) -> None:
    path = largest_file(step)
    raw = bytearray(path.read_bytes())
    raw[8:16] = b"\xde\xad\xbe\xef" * 2
    path.write_bytes(bytes(raw))


def truncate(step: Path) -> None:
    path = largest_file(step)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage_metadata(step: Path) -> None:
    (step / "state" / "_METADATA").write_text("{not json")


def empty_folder(step: Path) -> None:
    for path in sorted(step.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


def no_digest(step: Path) -> None:
    (step / checkpoints.DIGEST_FILE).unlink()


DAMAGES = [flip_one_bit, garbage_bytes, truncate, garbage_metadata, empty_folder, no_digest]


@pytest.mark.parametrize("damage", DAMAGES)
def test_every_kind_of_damage_fails_the_digest_and_the_newest_intact_step_is_restored(tmp_path, damage):
    state = {"w": jnp.arange(2000, dtype=jnp.float32), "step": jnp.zeros((), jnp.int32)}
    writer = checkpoints.Checkpoints(tmp_path, keep=5, log=lambda m: None)
    for step in (2, 4):
        writer.save(step, {**state, "step": jnp.asarray(step, jnp.int32)})
    assert checkpoints.damage(tmp_path / "checkpoints" / "4") is None
    damage(tmp_path / "checkpoints" / "4")
    assert checkpoints.damage(tmp_path / "checkpoints" / "4") is not None
    messages = []
    reader = checkpoints.Checkpoints(tmp_path, keep=5, writer=False, log=messages.append)
    restored, step = reader.restore_latest(state)
    assert step == 2 and int(restored["step"]) == 2 and (tmp_path / "checkpoints" / "4").exists()
    restored, step = checkpoints.Checkpoints(tmp_path, keep=5, log=messages.append).restore_latest(state)
    assert step == 2 and not (tmp_path / "checkpoints" / "4").exists()  # the trainer sets it aside
    assert [p.name[:2] for p in (tmp_path / "checkpoints" / checkpoints.DAMAGED).iterdir()] == ["4-"]
    assert all("is damaged" in m for m in messages) and len(messages) == 2


def test_an_intact_checkpoint_of_another_structure_is_one_line_naming_what_differs(tmp_path):
    """A digest-true checkpoint whose tree is not the model's (written by code whose updates differed) is
    never set aside or overwritten: the error is one line that names the differing paths."""
    saved = {"opt_state": {"disc": jnp.zeros(3)}, "step": jnp.zeros((), jnp.int32)}
    checkpoints.Checkpoints(tmp_path, keep=5, log=lambda m: None).save(2, saved)
    wanted = {"opt_state": {"phases": {"disc": jnp.zeros(3)}}, "step": jnp.zeros((), jnp.int32)}
    with pytest.raises(checkpoints.CheckpointError) as raised:
        checkpoints.Checkpoints(tmp_path, keep=5, log=lambda m: None).restore_latest(wanted)
    message = str(raised.value)
    assert "\n" not in message and "does not fit this model" in message
    assert "opt_state.disc" in message and "opt_state.phases" in message
    assert str(tmp_path / "config.json") in message  # where the run's own settings are recorded
    assert checkpoints.damage(tmp_path / "checkpoints" / "2") is None  # still there, intact


def test_a_damaged_latest_checkpoint_is_set_aside_and_the_run_resumes_from_the_intact_one(
    tmp_path, reference, capsys
):
    train_lib.train(gan(6), tmp_path, dataset=synthetic_dataset())
    flip_one_bit(tmp_path / "checkpoints" / "6")
    resumed = train_lib.train(gan(8), tmp_path, dataset=synthetic_dataset())
    err = capsys.readouterr().err
    assert "checkpoint" in err and "is damaged" in err and "resuming from the checkpoint at step 4" in err
    aside = list((tmp_path / "checkpoints" / checkpoints.DAMAGED).iterdir())
    assert len(aside) == 1 and aside[0].name.startswith("6-")  # kept, not deleted
    assert checkpoints.Checkpoints(tmp_path, 10, writer=False).steps() == [2, 4, 6, 8]
    resumed = flat(resumed["params"])
    assert resumed.keys() == reference.keys()
    for name in reference:
        np.testing.assert_array_equal(resumed[name], reference[name], err_msg=name)


def test_readers_use_the_newest_intact_checkpoint_and_move_nothing(tmp_path, capsys):
    train_lib.train(gan(6), tmp_path, dataset=synthetic_dataset())
    flip_one_bit(tmp_path / "checkpoints" / "6")
    _, ts = runtime.restore_model(gan(6), tmp_path)
    assert int(ts["step"]) == 4 and "is damaged" in capsys.readouterr().err
    assert (tmp_path / "checkpoints" / "6").is_dir() and not (tmp_path / "checkpoints" / "damaged").exists()


def test_a_nan_names_the_last_verified_checkpoint(tmp_path, monkeypatch):
    from conftest import toy_spec
    from test_train import _sqrt_family

    from jaxgen.models import REGISTRY

    monkeypatch.setitem(REGISTRY, "sqrt_test", toy_spec(_sqrt_family))
    config = tiny_config("sqrt_test", num_steps=8, checkpoint_every=2, log_every=4)
    config.optim.name, config.optim.lr = "sgd", 1.0
    with pytest.raises(train_lib.NonFiniteLossError, match="last good checkpoint: step 2"):
        train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    assert checkpoints.damage(tmp_path / "checkpoints" / "2") is None  # that checkpoint proves itself


def test_a_reader_waits_for_a_save_in_progress(tmp_path):
    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    done = []
    with open(tmp_path / "checkpoints" / checkpoints.LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as the trainer holds it while it writes a step
        reader = threading.Thread(target=lambda: done.append(runtime.restore_model(gan(2), tmp_path)))
        reader.start()
        time.sleep(1.0)
        assert reader.is_alive() and not done  # blocked until the save ends
        fcntl.flock(lock, fcntl.LOCK_UN)
    reader.join(timeout=120)
    assert int(done[0][1]["step"]) == 2


# ----------------------------------------------------------------------------------------- config identity


def test_resuming_with_a_changed_model_or_training_field_stops_with_the_diff(tmp_path):
    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    recorded = (tmp_path / "config.json").read_text()
    for section, field, value, shown in (
        ("model", "width", 8, "model.width 4 -> 8"),
        ("optim", "lr", 1e-3, "optim.lr 0.0002 -> 0.001"),
        ("train", "batch_size", 16, "train.batch_size 8 -> 16"),
    ):
        changed = gan(4)
        setattr(changed[section], field, value)
        with pytest.raises(workdir_lib.WorkdirError, match=f"holds a run of another config \\({shown}\\)"):
            train_lib.train(changed, tmp_path, dataset=synthetic_dataset())
    reseeded = gan(4)
    reseeded.seed = 3
    with pytest.raises(workdir_lib.WorkdirError, match="seed 0 -> 3"):
        train_lib.train(reseeded, tmp_path, dataset=synthetic_dataset())
    assert (tmp_path / "config.json").read_text() == recorded  # nothing was overwritten
    assert checkpoints.Checkpoints(tmp_path, 10, writer=False).steps() == [2]


def test_a_resume_may_change_its_length_and_logging_and_an_explicit_flag_allows_the_rest(tmp_path, capsys):
    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    longer = gan(4)
    longer.train.log_every, longer.eval.num_samples = 1, 99
    assert int(train_lib.train(longer, tmp_path, dataset=synthetic_dataset())["step"]) == 4
    assert "changed fields: eval.num_samples 10000 -> 99; train.log_every 2 -> 1" in capsys.readouterr().err
    faster = gan(6)
    faster.optim.lr = 1e-3
    ts = train_lib.train(faster, tmp_path, dataset=synthetic_dataset(), allow_config_change=True)
    assert int(ts["step"]) == 6 and "optim.lr 0.0002 -> 0.001" in capsys.readouterr().err
    assert json.loads((tmp_path / "config.json").read_text())["optim"]["lr"] == 1e-3


def test_a_reader_of_a_run_uses_the_config_it_was_trained_with(tmp_path, capsys):
    from jaxgen import main

    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    asked = base_config("gan")  # the config file alone: width 64 and batch 64, not the run's 4 and 8
    asked.sample.num = 6
    config = workdir_lib.config_of_run(asked, tmp_path, runtime.log)
    assert (config.model.width, config.train.batch_size, config.sample.num) == (4, 8, 6)
    err = capsys.readouterr().err
    assert "not used: " in err and "model.width 64 (the run's: 4)" in err and "sample.num" not in err
    assert main.dispatch(asked, str(tmp_path), "sample") == 0  # the width-4 networks restored and drawn
    with np.load(tmp_path / "samples.npz") as drawn:
        assert drawn["images"].shape[0] == 6


def test_a_reader_refuses_a_run_of_another_model_and_an_unreadable_record(tmp_path):
    asked = gan(2)
    assert workdir_lib.config_of_run(asked, tmp_path, print) is asked  # nothing trained there: the request
    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    with pytest.raises(workdir_lib.WorkdirError, match="holds a run of model 'gan', not 'aae'"):
        workdir_lib.config_of_run(base_config("aae"), tmp_path, print)
    one_line_exit_2(
        cli("--config=configs/aae.py", f"--workdir={tmp_path}", "--mode=eval"), "holds a run of model 'gan'"
    )
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(workdir_lib.WorkdirError, match="is not a config jaxgen recorded"):
        workdir_lib.config_of_run(gan(2), tmp_path, print)


@pytest.mark.parametrize("schedule", ["cosine", "linear_tail"])
def test_a_decaying_schedule_ties_the_length_to_the_run(schedule):
    allowed, refused = workdir_lib.config_changes(
        {"train": {"num_steps": 10}, "optim": {"schedule": schedule}},
        {"train": {"num_steps": 20}, "optim": {"schedule": schedule}},
    )
    assert allowed == [] and refused == [
        f"train.num_steps 10 -> 20 (optim.schedule={schedule} sets the rate from it)"
    ]
    allowed, _ = workdir_lib.config_changes({"train": {"num_steps": 10}}, {"train": {"num_steps": 20}})
    assert allowed == ["train.num_steps 10 -> 20"]


def test_a_field_added_after_the_run_resumes_only_at_its_default():
    recorded = {"data": {"name": "mnist"}}
    defaults = {"data": {"name": "mnist", "image_dir": "", "channels": 3}}
    at_default = {"data": {"name": "mnist", "image_dir": "", "channels": 3}}
    allowed, refused = workdir_lib.config_changes(recorded, at_default, defaults)
    assert refused == [] and allowed == ["data.channels '<absent>' -> 3", "data.image_dir '<absent>' -> ''"]
    changed = {"data": {"name": "mnist", "image_dir": "", "channels": 1}}
    _, refused = workdir_lib.config_changes(recorded, changed, defaults)
    assert refused == ["data.channels '<absent>' -> 1"]
    _, refused = workdir_lib.config_changes(recorded, at_default)  # no defaults known: refused
    assert len(refused) == 2


# ----------------------------------------------------------------------------------------- workdirs


def test_the_lock_covers_every_seed_workdir(tmp_path):
    (tmp_path / "seed_1").mkdir()
    with open(tmp_path / "seed_1" / ".lock", "w") as held:  # another run trains in <workdir>/seed_1
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(workdir_lib.WorkdirBusyError, match="seed_1"):
            train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset(), seeds=[0, 1])
    assert not (tmp_path / "seed_0" / "checkpoints").exists()


def test_unusable_workdirs_are_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(workdir_lib.WorkdirError, match="is a file"):
        workdir_lib.check_usable(tmp_path / "file", create=True)
    with pytest.raises(workdir_lib.WorkdirError, match="lies under .*file, which is a file"):
        workdir_lib.check_usable(tmp_path / "file" / "run", create=True)
    with pytest.raises(workdir_lib.WorkdirError, match="no workdir"):
        workdir_lib.check_usable(tmp_path / "missing", create=False)
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a user without write permission
    with pytest.raises(workdir_lib.WorkdirError, match="is not writable"):
        workdir_lib.check_usable(tmp_path, create=True)
    with pytest.raises(workdir_lib.WorkdirError, match="cannot be created"):
        workdir_lib.check_usable(tmp_path / "new", create=True)


def test_a_torn_last_metrics_line_is_dropped_with_a_warning(tmp_path, capsys):
    train_lib.train(gan(2), tmp_path, dataset=synthetic_dataset())
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"kind": "train", "step": 3, "gen/lo')  # what a kill during a write leaves
    train_lib.train(gan(4), tmp_path, dataset=synthetic_dataset())
    assert "dropped the unreadable line 2" in capsys.readouterr().err
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4]


# ----------------------------------------------------------------------------------------- data


@pytest.fixture
def mnist_sized(tmp_path, monkeypatch):
    """IDX files with MNIST's sizes, and MNIST's published digests replaced by theirs."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 60_000).astype(np.uint8),
        "test_images": rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 10_000).astype(np.uint8),
    }
    import hashlib

    digests = {k: hashlib.sha256(mnist.idx_bytes(v)).hexdigest() for k, v in arrays.items()}
    monkeypatch.setattr(mnist, "IDX_SHA256", digests)
    return write_idx_dir(tmp_path / "idx", arrays, gz=False)


def test_idx_files_are_checked_against_the_published_digests(mnist_sized, monkeypatch):
    assert data_lib.load_dataset(base_config("gan", data={"source": "idx", "idx_dir": str(mnist_sized)}).data)
    images = mnist_sized / "train-images-idx3-ubyte"
    raw = bytearray(images.read_bytes())
    raw[5000:5100] = bytes(100)  # 100 pixel bytes overwritten
    images.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="MNIST's sizes but not its published sha256 \\(train_images differ"):
        mnist.read_idx_dir(mnist_sized)
    monkeypatch.setattr(mnist, "download_mirror_wheel", lambda d: (_ for _ in ()).throw(DataError("offline")))
    monkeypatch.setattr(
        "jaxgen.data.tfds_source.load_tfds", lambda *a: (_ for _ in ()).throw(DataError("none"))
    )
    for cached in mnist.cache_dir().glob("mnist.npz*"):  # the intact files were cached by the first load
        cached.unlink()
    with pytest.raises(DataError, match="(?s)idx_dir: IDX files .* damaged files.*mirror: offline"):
        data_lib.load_dataset(base_config("gan", data={"idx_dir": str(mnist_sized)}).data)  # auto: tried on
    assert not (mnist.cache_dir() / mnist.CACHE_NAME).exists()  # the damaged bytes were never cached


def test_own_idx_data_is_used_but_never_called_verified(idx_dir, capsys):
    dataset = data_lib.load_dataset(base_config("gan", data={"source": "idx", "idx_dir": str(idx_dir)}).data)
    assert "unverified" in dataset.source
    cached = data_lib.load_dataset(base_config("gan", data={"source": "cache"}).data)
    assert "unverified" in cached.source and f"cached from IDX files in {idx_dir}" in cached.source


def test_a_truncated_gzip_file_is_reported_and_auto_tries_the_next_source(tmp_path, monkeypatch):
    folder = write_idx_dir(tmp_path / "idx", synthetic_arrays())
    gz = folder / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-100])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is not a whole gzip file"):
        mnist.read_idx_dir(folder)
    monkeypatch.setattr(mnist, "download_mirror_wheel", lambda d: (_ for _ in ()).throw(DataError("offline")))
    monkeypatch.setattr(
        "jaxgen.data.tfds_source.load_tfds", lambda *a: (_ for _ in ()).throw(DataError("none"))
    )
    with pytest.raises(DataError, match="(?s)not a whole gzip file.*mirror: offline"):
        data_lib.load_dataset(base_config("gan", data={"idx_dir": str(folder)}).data)


def test_a_truncated_cache_with_a_recomputed_checksum_is_reported(tmp_path):
    path = mnist.write_cache(tmp_path, synthetic_arrays())
    path.write_bytes(path.read_bytes()[:-500])
    path.with_suffix(".npz.sha256").write_text(mnist.file_sha256(path) + "\n")
    with pytest.raises(DataError, match="is unreadable"):
        mnist.read_cache(tmp_path)


# ----------------------------------------------------------------------------------------- the command line


def cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "jaxgen.main", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def one_line_exit_2(result, *expected):
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxgen: ") and "Traceback" not in result.stderr, lines
    for text in expected:
        assert text in lines[0], lines[0]


def test_command_line_mistakes_are_one_line_with_exit_status_2(tmp_path):
    syntax = tmp_path / "syntax.py"
    syntax.write_text(
        "from jaxgen.config import base_config\n\n\ndef get_config(:\n    return base_config('gan')\n"
    )
    one_line_exit_2(cli(f"--config={syntax}", f"--workdir={tmp_path / 'w'}"), f"{syntax}:4: syntax error")
    typo = tmp_path / "typo.py"
    typo.write_text(
        "from jaxgen.config import base_config\n\n\ndef get_config():\n    c = base_config('gan')\n"
        "    c.model.widht = 8\n    return c\n"
    )
    one_line_exit_2(
        cli(f"--config={typo}", f"--workdir={tmp_path / 'w'}"), f"{typo}:6", 'Did you mean "width"'
    )
    (tmp_path / "file").write_text("x")
    one_line_exit_2(cli("--config=configs/gan.py", f"--workdir={tmp_path / 'file'}"), "is a file")
    one_line_exit_2(
        cli("--config=configs/gan.py", f"--workdir={tmp_path / 'file' / 'run'}"), "which is a file"
    )
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("mode", ["sample", "eval", "viz"])
def test_read_only_modes_on_a_missing_workdir_create_nothing(tmp_path, mode):
    missing = tmp_path / "missing"
    one_line_exit_2(cli("--config=configs/gan.py", f"--workdir={missing}", f"--mode={mode}"), "no workdir")
    assert not missing.exists()
