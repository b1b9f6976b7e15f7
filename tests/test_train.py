"""The trainer: outputs, exact resume (also after a real kill), SIGTERM, sharding, NaN stop, sampling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from conftest import REPO, TEST_XLA_FLAGS, ScalarParam, synthetic_dataset, tiny_config, toy_spec

from jaxgen import checkpoints, metric_writer, runtime
from jaxgen import config as config_lib
from jaxgen import train as train_lib
from jaxgen import workdir as workdir_lib
from jaxgen.models import REGISTRY, Abilities, Family, Update, apply_net


def flat_params(ts) -> dict[str, np.ndarray]:
    return {
        jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_leaves_with_path(ts["params"])
    }


def checkpoint_params(workdir: Path, step: int) -> dict[str, np.ndarray]:
    """Params of a saved checkpoint, read back with orbax as plain arrays (after checking its digest)."""
    folder = workdir / "checkpoints" / str(step)
    assert checkpoints.damage(folder) is None
    restored = ocp.StandardCheckpointer().restore((folder / "state").absolute())
    return {
        jax.tree_util.keystr(p): np.asarray(v)
        for p, v in jax.tree_util.tree_leaves_with_path(restored["params"])
    }


def assert_bit_identical(a: dict, b: dict):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_outputs_checkpoint_retention_and_in_process_resume(tmp_path):
    dataset = synthetic_dataset()
    config = tiny_config("classifier", num_steps=6, checkpoint_every=2, eval_every=3, keep_checkpoints=2)
    config.optim.schedule = "constant"  # a cosine schedule follows num_steps, which this test changes
    full = train_lib.train(config, tmp_path / "full", dataset=dataset)

    workdir = tmp_path / "full"
    assert sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()) == [4, 6]
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    train_records = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in train_records] == [1, 2, 3, 4, 5, 6]
    assert {"cls/loss", "cls/accuracy", "images_per_s"} <= train_records[0].keys()
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [3, 6] and 0.0 <= evals[-1]["test_accuracy"] <= 1.0
    assert list((workdir / "tensorboard").glob("events.out.tfevents.*"))
    assert (workdir / "loss_curves.png").stat().st_size > 1000
    assert json.loads((workdir / "final_metrics.json").read_text())["step"] == 6

    half = config.copy_and_resolve_references()
    half.train.num_steps = 3
    train_lib.train(half, tmp_path / "resumed", dataset=dataset)
    resumed = train_lib.train(config, tmp_path / "resumed", dataset=dataset)  # same config, same workdir
    assert int(resumed["step"]) == 6
    assert_bit_identical(flat_params(full), flat_params(resumed))
    # the resumed run's wall time continues from the first piece's, it does not restart at zero
    walls = {
        r["step"]: r["wall_s"]
        for r in map(json.loads, (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines())
        if r["kind"] == "train"
    }
    assert list(walls) == [1, 2, 3, 4, 5, 6] and all(walls[s] > walls[s - 1] > 0 for s in range(2, 7))
    assert metric_writer.wall_time_at(tmp_path / "resumed", 5) == walls[5]
    assert metric_writer.wall_time_at(tmp_path / "resumed", 0) is None
    assert_bit_identical(
        {k: np.asarray(v) for k, v in jax.tree_util.tree_leaves_with_path(full["opt_state"])},
        {k: np.asarray(v) for k, v in jax.tree_util.tree_leaves_with_path(resumed["opt_state"])},
    )


def test_the_metric_writer_keeps_an_installed_pytorch_out_of_the_process(tmp_path):
    """tensorboardX imports PyTorch whenever it is installed (1.2 s of every run's start-up here); a stand-in
    torch package that is importable shows whether jaxgen's import of it let PyTorch in, and that a later
    `import torch` of the user's still works."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("Tensor = type('Tensor', (), {})\n")
    probe = textwrap.dedent(
        """
        import sys
        from jaxgen import metric_writer
        assert "torch" not in sys.modules, "importing the metric writer imported torch"
        writer = metric_writer.MetricWriter(__import__("pathlib").Path(sys.argv[1]), 0)
        writer.write("train", 1, {"loss": 0.5})
        writer.close()
        assert "torch" not in sys.modules, "writing metrics imported torch"
        import torch
        assert torch.Tensor.__name__ == "Tensor"
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "metrics.jsonl").read_text())["loss"] == 0.5


def test_training_a_finished_run_again_does_nothing(tmp_path):
    """Rerunning a command whose run ended must not append a second final evaluation to its log."""
    dataset = synthetic_dataset()
    config = tiny_config("classifier", num_steps=3, eval_every=3)
    config.optim.schedule = "constant"  # so that the longer run below may resume this one
    train_lib.train(config, tmp_path, dataset=dataset)
    log_before = (tmp_path / "metrics.jsonl").read_text()
    again = train_lib.train(config, tmp_path, dataset=dataset)
    assert int(again["step"]) == 3
    assert (tmp_path / "metrics.jsonl").read_text() == log_before
    longer = config.copy_and_resolve_references()
    longer.train.num_steps = 4  # a longer schedule still trains on and evaluates its own end
    train_lib.train(longer, tmp_path, dataset=dataset)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [3, 4]


def test_autoencoder_writes_sample_and_reconstruction_grids(tmp_path):
    train_lib.train(tiny_config("ae", eval_every=1), tmp_path, dataset=synthetic_dataset())
    names = {p.name for p in (tmp_path / "samples").iterdir()}
    assert {"samples_0000001.png", "samples_final.png", "reconstructions_final.png"} <= names
    assert {"progress.gif", "reconstructions.gif"} <= names  # every grid of the run, in order


def test_steps_per_call_scan_matches_single_steps(tmp_path):
    dataset = synthetic_dataset()
    single = train_lib.train(tiny_config("gan", num_steps=4, log_every=4), tmp_path / "a", dataset=dataset)
    fused = train_lib.train(
        tiny_config("gan", num_steps=4, log_every=4, steps_per_call=2), tmp_path / "b", dataset=dataset
    )
    for name, value in flat_params(single).items():
        np.testing.assert_allclose(flat_params(fused)[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


def test_calls_stop_at_every_log_checkpoint_and_evaluation_step_with_two_lengths():
    periods = config_lib.base_config("gan").train
    periods.update(log_every=6, checkpoint_every=4, eval_every=9)
    ends, step = [], 0
    while step < 23:
        step += train_lib.steps_in_call(step, 3, 23, periods)
        ends.append(step)
    assert ends == [3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 18, 19, 20, 23]
    assert {4, 6, 8, 9, 12, 16, 18, 20} <= set(ends)  # every multiple of 4, 6 and 9
    assert {b - a for a, b in zip([0, *ends[:-1]], ends, strict=True)} == {1, 3}  # two call lengths


def test_periodic_work_lands_on_its_configured_steps_with_several_steps_per_call(tmp_path):
    """With 3 steps per call a checkpoint every 4 steps must still be taken at step 4 (not 6), and the
    metrics logged every 5 steps at step 5 (not 6); a checkpoint also writes the pending metrics."""
    config = tiny_config("classifier", num_steps=8, checkpoint_every=4, log_every=5, steps_per_call=3)
    train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    saved = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert saved == [4, 8]
    assert [r["step"] for r in records if r["kind"] == "train"] == [4, 5, 8]


def test_signal_during_a_periodic_save_stops_cleanly_without_saving_twice(tmp_path, monkeypatch):
    """CI once caught SIGTERM landing just after the step-4 save; the stop must not re-save step 4."""
    original = checkpoints.Checkpoints.save

    def save_then_signal(self, step, *args, **kwargs):
        result = original(self, step, *args, **kwargs)
        if step == 4:
            os.kill(os.getpid(), signal.SIGTERM)  # handled by the trainer's flag, not the default action
        return result

    monkeypatch.setattr(checkpoints.Checkpoints, "save", save_then_signal)
    config = tiny_config("classifier", num_steps=8, checkpoint_every=2)
    with pytest.raises(workdir_lib.TrainingInterrupted) as info:
        train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    assert info.value.step == 4
    assert sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())[-1] == 4


# ----------------------------------------------------------------------------------------- NaN guard


def _sqrt_family(model, setup):
    """loss = sqrt(w), w = 1, SGD lr 1: w goes 1 -> 0.5 -> -0.21, so step 3's loss is NaN."""
    net = ScalarParam(1.0)

    def loss(params, state, batch, key):
        w, state = apply_net(net, "net", params, state, batch["image"], train=True)
        return jnp.sqrt(w), ({}, state)

    return Family(
        networks={"net": net},
        example_inputs={"net": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"net": setup.optimizer},
        updates=(Update("sqrt", ("net",), loss),),
    )


def test_non_finite_loss_stops_with_step_loss_and_last_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "sqrt_test", toy_spec(_sqrt_family))
    config = tiny_config("sqrt_test", num_steps=8, checkpoint_every=2, log_every=4)
    config.optim.name, config.optim.lr = "sgd", 1.0
    with pytest.raises(train_lib.NonFiniteLossError) as info:
        train_lib.train(config, tmp_path, dataset=synthetic_dataset())
    message = str(info.value)
    assert "non-finite loss at step 3: sqrt/loss = nan" in message
    assert "last good checkpoint: step 2" in message
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()) == ["2"]


# ----------------------------------------------------------------------------------------- processes


def cli(workdir: Path, idx_dir: Path, *extra: str) -> list[str]:
    overrides = [
        "--config.model.width=4", "--config.model.latent_dim=8", "--config.train.batch_size=8",
        "--config.train.num_steps=300", "--config.train.checkpoint_every=20", "--config.train.log_every=10",
        "--config.train.eval_every=1000", "--config.train.num_grid_images=4", "--config.data.source=idx",
        f"--config.data.idx_dir={idx_dir}",
    ]  # fmt: skip
    return [
        sys.executable,
        "-m",
        "jaxgen.main",
        "--config=configs/gan.py",
        f"--workdir={workdir}",
        *overrides,
        *extra,
    ]


def start(command) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(process: subprocess.Popen, workdir: Path, step: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not (workdir / "checkpoints" / str(step)).exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.time() < deadline, f"no checkpoint {step} after {timeout}s"
        time.sleep(0.05)


def test_killed_then_terminated_run_resumes_bit_identically(tmp_path, idx_dir):
    reference = tmp_path / "reference"
    done = subprocess.run(cli(reference, idx_dir), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    workdir = tmp_path / "interrupted"
    process = start(cli(workdir, idx_dir))
    wait_for_checkpoint(process, workdir, 40)
    process.kill()  # SIGKILL: no handler runs, whatever was not checkpointed is lost
    process.communicate()

    process = start(cli(workdir, idx_dir))
    wait_for_checkpoint(process, workdir, 120)
    process.send_signal(signal.SIGTERM)  # preemption: save and exit cleanly
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "resuming from the checkpoint at step" in stderr
    stopped_at = int(stderr.split("stopped by SIGTERM at step ")[1].split(";")[0])
    assert (workdir / "checkpoints" / str(stopped_at)).exists()

    finish = subprocess.run(cli(workdir, idx_dir), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr[-3000:]
    assert f"resuming from the checkpoint at step {stopped_at}" in finish.stderr
    assert_bit_identical(checkpoint_params(reference, 300), checkpoint_params(workdir, 300))
    steps = [json.loads(line)["step"] for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # no duplicated log records

    sample = subprocess.run(
        cli(workdir, idx_dir, "--mode=sample", "--config.sample.num=12"),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert sample.returncode == 0, sample.stderr[-3000:]
    with np.load(workdir / "samples.npz") as f:
        images, step = f["images"], int(f["step"])
    assert images.shape == (12, 32, 32, 1) and step == 300 and 0.0 <= images.min() and images.max() <= 1.0
    assert (workdir / "samples.png").exists()


SHARDED_RUN = textwrap.dedent(
    """
    import sys, jax, numpy as np
    sys.path.insert(0, "tests")
    from conftest import synthetic_dataset, tiny_config
    from jaxgen import train
    config = tiny_config("gan", num_steps=3)
    config.optim.name, config.optim.lr = "sgd", 0.05
    ts = train.train(config, sys.argv[1], dataset=synthetic_dataset())
    leaves = jax.tree_util.tree_leaves_with_path(ts["params"])
    flat = {jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves}
    np.savez(sys.argv[2], n_devices=len(jax.local_devices()), **flat)
    """
)


def test_one_and_eight_devices_agree(tmp_path):
    """Data-parallel over 8 simulated CPU devices (BatchNorm statistics are global) equals 1 device."""
    results = {}
    for n in (1, 8):
        env = dict(os.environ, XLA_FLAGS=f"{TEST_XLA_FLAGS} --xla_force_host_platform_device_count={n}")
        out = tmp_path / f"params_{n}.npz"
        run = subprocess.run(
            [sys.executable, "-c", SHARDED_RUN, str(tmp_path / f"work_{n}"), str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        with np.load(out) as f:
            results[n] = {k: f[k] for k in f.files}
        assert int(results[n].pop("n_devices")) == n
    for name, value in results[1].items():
        np.testing.assert_allclose(results[8][name], value, rtol=1e-4, atol=1e-5, err_msg=name)


def test_sample_mode_errors_are_clear(tmp_path):
    from jaxgen.sample import sample_from_checkpoint

    with pytest.raises(FileNotFoundError, match="no checkpoint in .*train first"):
        sample_from_checkpoint(tiny_config("gan"), tmp_path)
    with pytest.raises(ValueError, match="does not generate images"):
        sample_from_checkpoint(tiny_config("classifier"), tmp_path)


def test_second_trainer_on_the_same_workdir_stops_at_once(tmp_path):
    import fcntl

    with open(tmp_path / ".lock", "w") as held:  # as a running trainer holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(workdir_lib.WorkdirBusyError, match="another jaxgen process is training in"):
            train_lib.train(tiny_config("gan"), tmp_path, dataset=synthetic_dataset())
        assert not (tmp_path / "checkpoints").exists()
    ts = train_lib.train(tiny_config("gan"), tmp_path, dataset=synthetic_dataset())  # released: runs
    assert int(ts["step"]) == 2


def test_seeds_trained_in_one_program_match_separate_runs(tmp_path):
    dataset = synthetic_dataset()
    config = tiny_config("wgan_gp", num_steps=3)  # two updates, 5 critic repeats, the penalty's double grad
    many = train_lib.train(config, tmp_path / "many", seeds=[0, 3], dataset=dataset)
    assert many["step"].shape == (2,)
    for i, seed in enumerate([0, 3]):
        single = config.copy_and_resolve_references()
        single.seed = seed
        alone = train_lib.train(single, tmp_path / f"alone_{seed}", dataset=dataset)
        vmapped = jax.tree.map(lambda x, i=i: np.asarray(x[i]), many["params"])
        for a, b in zip(jax.tree.leaves(vmapped), jax.tree.leaves(alone["params"]), strict=True):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)
        # the seed's workdir is an ordinary one: its checkpoint restores with --config.seed=<seed>
        workdir = workdir_lib.seed_workdir(tmp_path / "many", seed)
        assert json.loads((workdir / "config.json").read_text())["seed"] == seed
        assert (workdir / "samples" / "samples_final.png").exists()
        _, restored = runtime.restore_model(single, workdir)
        assert_bit_identical(flat_params(restored), flat_params({"params": vmapped}))
    flat = [np.asarray(x) for x in jax.tree.leaves(many["params"])]
    assert any(not np.allclose(x[0], x[1]) for x in flat)  # the seeds differ


def test_seeds_resume_only_from_a_common_step(tmp_path):
    dataset = synthetic_dataset()
    config = tiny_config("gan", num_steps=2)
    train_lib.train(config, tmp_path, seeds=[0, 1], dataset=dataset)
    longer = config.copy_and_resolve_references()
    longer.train.num_steps = 4
    resumed = train_lib.train(longer, tmp_path, seeds=[0, 1], dataset=dataset)
    fresh = train_lib.train(longer, tmp_path / "fresh", seeds=[0, 1], dataset=dataset)
    for a, b in zip(jax.tree.leaves(resumed["params"]), jax.tree.leaves(fresh["params"]), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    train_lib.train(config, tmp_path / "other", seeds=[5], dataset=dataset)
    (tmp_path / "seed_5").symlink_to(tmp_path / "other" / "seed_5")
    with pytest.raises(train_lib.config_lib.ConfigError, match="different steps"):
        train_lib.train(longer, tmp_path, seeds=[0, 5], dataset=dataset)
    with pytest.raises(train_lib.config_lib.ConfigError, match="distinct"):
        train_lib.train(longer, tmp_path, seeds=[1, 1], dataset=dataset)


def test_gan_training_writes_a_progress_gif_of_its_sample_grids(tmp_path):
    from PIL import Image

    train_lib.train(tiny_config("gan", num_steps=3, eval_every=1), tmp_path, dataset=synthetic_dataset())
    grids = sorted(p.name for p in (tmp_path / "samples").glob("samples_*.png"))
    assert grids == ["samples_0000001.png", "samples_0000002.png", "samples_final.png"]
    gif = Image.open(tmp_path / "samples" / "progress.gif")
    assert gif.n_frames == 3
    gif.seek(2)
    final = np.asarray(Image.open(tmp_path / "samples" / "samples_final.png").convert("L"))
    np.testing.assert_array_equal(np.asarray(gif.convert("L")), final)


def test_seeds_run_checkpoints_every_seed_when_terminated(tmp_path, monkeypatch):
    original = train_lib.make_multi_step

    def signalling(*args):
        step_fn = original(*args)

        def wrapped(ts, *rest, **kwargs):
            ts, metrics = step_fn(ts, *rest, **kwargs)
            if int(ts["step"][0]) == 2:
                os.kill(os.getpid(), signal.SIGTERM)  # recorded by the handler, acted on after this call
            return ts, metrics

        return wrapped

    monkeypatch.setattr(train_lib, "make_multi_step", signalling)
    with pytest.raises(workdir_lib.TrainingInterrupted) as stopped:
        train_lib.train(tiny_config("gan", num_steps=5), tmp_path, dataset=synthetic_dataset(), seeds=[0, 1])
    assert stopped.value.step == 2 and stopped.value.signum == signal.SIGTERM
    for seed in (0, 1):
        assert (
            checkpoints.Checkpoints(workdir_lib.seed_workdir(tmp_path, seed), 3, writer=False).steps()[-1]
            == 2
        )


# ----------------------------------------------------------------------------------------- run slots


def _written(workdir: Path) -> dict:
    """What a run wrote into one workdir: file names (event files by count), metric keys per kind and the
    steps of each kind, checkpoint steps, final metric keys."""
    files = sorted(
        str(p.relative_to(workdir))
        for p in workdir.rglob("*")
        if p.is_file() and "tensorboard" not in p.parts
    )
    files = [f for f in files if not f.startswith("checkpoints/")]
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in records}
    return {
        "files": files,
        "event_files": len(list((workdir / "tensorboard").glob("events.out.tfevents.*"))),
        "metric_keys": {k: sorted({key for r in records if r["kind"] == k for key in r}) for k in kinds},
        "metric_steps": {k: [r["step"] for r in records if r["kind"] == k] for k in kinds},
        "checkpoints": sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()),
        "final": sorted(json.loads((workdir / "final_metrics.json").read_text())),
    }


def test_one_run_and_three_seeds_write_the_same_things(tmp_path):
    """S = 1 and S = 3 run slots go through one loop: every seed's workdir holds what a single run's
    holds (pictures, logs, evaluations, checkpoints, final metrics); seed 0 computes what one run does."""
    dataset = synthetic_dataset()
    config = tiny_config("ae", num_steps=4, checkpoint_every=2, eval_every=2, keep_checkpoints=5)
    single = train_lib.train(config, tmp_path / "one", dataset=dataset)
    many = train_lib.train(config, tmp_path / "three", dataset=dataset, seeds=[0, 1, 2])
    one = _written(tmp_path / "one")
    assert one["metric_steps"] == {"train": [1, 2, 3, 4], "eval": [2, 4]} and one["checkpoints"] == [2, 4]
    assert "samples/reconstructions_0000002.png" in one["files"] and "test_mse" in one["final"]
    for seed in (0, 1, 2):
        seed_dir = workdir_lib.seed_workdir(tmp_path / "three", seed)
        assert _written(seed_dir) == one, seed
        assert json.loads((seed_dir / "config.json").read_text())["seed"] == seed
    for a, b in zip(jax.tree.leaves(single["params"]), jax.tree.leaves(many["params"]), strict=True):
        np.testing.assert_allclose(np.asarray(b)[0], np.asarray(a), rtol=1e-4, atol=1e-6)
    assert not np.allclose(jax.tree.leaves(many["params"])[0][0], jax.tree.leaves(many["params"])[0][1])


def test_non_finite_loss_in_one_seed_names_the_seed_and_step(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "sqrt_test", toy_spec(_sqrt_family))
    config = tiny_config("sqrt_test", num_steps=8, checkpoint_every=2, log_every=4)
    config.optim.name, config.optim.lr = "sgd", 1.0
    with pytest.raises(train_lib.NonFiniteLossError) as info:
        train_lib.train(config, tmp_path, dataset=synthetic_dataset(), seeds=[4, 5])
    message = str(info.value)
    assert message.startswith("seed 4: non-finite loss at step 3: sqrt/loss = nan")
    assert "last good checkpoint: step 2" in message


# ----------------------------------------------------------------------------------------- boosted updates


def test_boosted_repetitions_before_a_step_add_up_the_counts():
    from jaxgen.models import Boosted

    schedule = Boosted(usual=5, boost=100, first=25, every=500)
    counts = [int(schedule.count(s)) for s in range(1600)]
    assert counts[:25] == [100] * 25 and counts[25:30] == [5] * 5 and counts[500] == counts[1000] == 100
    running = np.concatenate([[0], np.cumsum(counts)])
    assert [int(schedule.before(s)) for s in range(1601)] == running.tolist()
    assert int(schedule.before(jnp.asarray(1001))) == running[1001]  # traced steps too


def _boosted_family(model, setup):
    """A scalar fitted by update "a" (1 repetition, 3 on boosted steps) then "b"; both log the mean of
    their batch, whose images are constants telling their index."""
    from jaxgen.models import Boosted

    net = ScalarParam(0.0)

    def loss(name):
        def fit(params, state, batch, key):
            w, state = apply_net(net, "w", params, state, batch["image"], train=True)
            seen = jnp.mean(batch["image"][:, 0, 0, 0] * 255.0)
            return jnp.mean(jnp.square(w - batch["image"])), ({"seen": seen}, state)

        return fit

    return Family(
        networks={"w": net},
        example_inputs={"w": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"w": setup.optimizer},
        updates=(
            Update("a", ("w",), loss("a"), repeat=Boosted(usual=1, boost=3, first=2, every=4)),
            Update("b", ("w",), loss("b")),
        ),
    )


def test_a_boosted_update_repeats_on_its_steps_counts_its_batches_and_resumes_exactly(tmp_path, monkeypatch):
    import dataclasses

    from jaxgen.step import batches_before

    monkeypatch.setitem(REGISTRY, "boosted_test", toy_spec(_boosted_family))
    n = 64
    dataset = synthetic_dataset(n, 16)
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 32, 32, 1))
    dataset = dataclasses.replace(dataset, train_images=np.ascontiguousarray(images))
    config = tiny_config("boosted_test", num_steps=9, checkpoint_every=3)  # batch 8: 8 batches an epoch
    family = runtime.build_family(config, dataset)
    assert [int(batches_before(family, s)) for s in range(10)] == [0, 4, 8, 10, 12, 16, 18, 20, 22, 26]
    full = train_lib.train(config, tmp_path / "full", dataset=dataset)
    config.train.num_steps = 5
    train_lib.train(config, tmp_path / "split", dataset=dataset)  # stops after a boosted step (4)
    config.train.num_steps = 9
    resumed = train_lib.train(config, tmp_path / "split", dataset=dataset)
    assert float(full["params"]["w"]["w"]) == float(resumed["params"]["w"]["w"])
    assert float(full["opt_state"]["w"][0].count) == 26  # every repetition was an update
    records = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == list(range(1, 10))


def test_boosted_updates_inside_multi_step_calls_match_one_step_per_call(tmp_path, monkeypatch):
    """WGAN's boosted critic inside a lax.scan of steps (the CPU default runs 10 per call): the same
    updates on the same batches as one step per call."""
    monkeypatch.setitem(REGISTRY, "boosted_test", toy_spec(_boosted_family))
    dataset = synthetic_dataset(64, 16)
    trained = {}
    for k in (1, 2):
        config = tiny_config("boosted_test", num_steps=9, log_every=3, steps_per_call=k)
        trained[k] = train_lib.train(config, tmp_path / f"k{k}", dataset=dataset)
        assert float(trained[k]["opt_state"]["w"][0].count) == 26
    np.testing.assert_allclose(
        float(trained[2]["params"]["w"]["w"]), float(trained[1]["params"]["w"]["w"]), rtol=1e-6
    )


@pytest.mark.parametrize("boosted", [False, True])
def test_a_repeated_updates_loss_is_traced_once_per_compile(boosted, monkeypatch):
    """The loop of a repeated update (WGAN's critic) reuses the trace that told its metrics' shapes: each
    loss's Python runs once per compile, not twice (WGAN mixed, cached: 0.8 -> 0.7 s on a CPU)."""
    from jax.sharding import AxisType

    from jaxgen.data import feeds
    from jaxgen.models import Boosted
    from jaxgen.step import make_multi_step

    traces = []

    def counting_family(model, setup):
        net = ScalarParam(0.0)

        def loss(name):
            def fit(params, state, batch, key):
                traces.append(name)
                w, state = apply_net(net, "w", params, state, batch["image"], train=True)
                return jnp.mean(jnp.square(w - batch["image"])), ({"w": w}, state)

            return fit

        repeat = Boosted(usual=2, boost=3, first=2, every=4) if boosted else 3
        return Family(
            networks={"w": net},
            example_inputs={"w": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
            optimizers={"w": setup.optimizer},
            updates=(Update("a", ("w",), loss("a"), repeat=repeat), Update("b", ("w",), loss("b"))),
        )

    monkeypatch.setitem(REGISTRY, "counting_test", toy_spec(counting_family))
    dataset = synthetic_dataset(32, 16)
    family = runtime.build_family(tiny_config("counting_test"), dataset)
    keys = runtime.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    multi_step = make_multi_step(family, 8, mesh)
    data = {"images": dataset.train_images, "labels": dataset.train_labels}
    state = runtime.init_state(family, keys.init)
    traces.clear()
    traced = multi_step.trace(state, data, feeds.batch_plan(keys.data, 0, 32), 0, keys.train, 1)
    assert traces == ["a", "b"]
    assert str(traced.jaxpr).count("while[" if boosted else "scan[") == 1  # "a" still runs as a loop


# ----------------------------------------------------------------------------------------- averaging


def _climbing_family(model, setup):
    """loss = -w, SGD lr 1: w goes 0 -> 1 -> 2 -> ...; evaluate reports w, so the test sees which params
    evaluation used."""
    net = ScalarParam(0.0)

    def loss(params, state, batch, key):
        w, state = apply_net(net, "net", params, state, batch["image"], train=True)
        return -w, ({}, state)

    def evaluate(params, state, batch):
        w = apply_net(net, "net", params, state, batch["image"], train=False)[0]
        return {"w": jnp.full(batch["image"].shape[:1], w)}

    return Family(
        networks={"net": net},
        example_inputs={"net": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"net": setup.optimizer},
        updates=(Update("climb", ("net",), loss),),
        can=Abilities(evaluate=evaluate),
    )


def test_average_rate_is_the_plain_mean_then_exponential():
    from jaxgen.step import average_rate

    config = tiny_config("gan")
    config.train.average_decay = 1.0
    with pytest.raises(config_lib.ConfigError, match=r"train.average_decay=1.0 must be in \[0, 1\)"):
        config_lib.validate(config)
    rates = [float(average_rate(t, 0.75)) for t in (0, 1, 2, 3, 4, 100)]
    np.testing.assert_allclose(rates, [1.0, 0.5, 1 / 3, 0.25, 0.25, 0.25], rtol=1e-6)


def test_params_average_is_kept_resumed_and_used_for_evaluation(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "climb_test", toy_spec(_climbing_family))
    config = tiny_config("climb_test", num_steps=4, checkpoint_every=2)
    config.optim.name, config.optim.lr = "sgd", 1.0
    config.train.average_decay = 0.5  # rates 1, 1/2, 1/2, 1/2 over w = 1, 2, 3, 4
    ts = train_lib.train(config, tmp_path / "run", dataset=synthetic_dataset())
    expected = 1.0
    for w in (2.0, 3.0, 4.0):
        expected += 0.5 * (w - expected)
    assert float(ts["params"]["net"]["w"]) == 4.0
    assert float(ts["average"]["net"]["w"]) == pytest.approx(expected)  # 3.125
    final = json.loads((tmp_path / "run" / "final_metrics.json").read_text())
    assert final["test_w"] == pytest.approx(expected)
    _, restored = runtime.restore_model(config, tmp_path / "run")
    assert float(restored["params"]["net"]["w"]) == pytest.approx(expected)
    # stopped at step 2 and resumed: the same average
    short = config.copy_and_resolve_references()
    short.train.num_steps = 2
    train_lib.train(short, tmp_path / "resumed", dataset=synthetic_dataset())
    resumed = train_lib.train(config, tmp_path / "resumed", dataset=synthetic_dataset())
    assert float(resumed["average"]["net"]["w"]) == float(ts["average"]["net"]["w"])
