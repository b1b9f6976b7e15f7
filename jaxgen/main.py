"""Command line: `python -m jaxgen.main --config=configs/wgan.py --workdir=runs/wgan [--mode=...]`.

Flags only; the work is done by library calls (jaxgen.train, .sample, .evaluate, .embed). Bad input (a
config file, a field, a value, a busy workdir) ends in one line and exit status 2.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from absl import app, flags, logging
from ml_collections import config_flags

from jaxgen import config as config_lib

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Experiment config file, e.g. configs/wgan.py.", lock_config=True
)
flags.DEFINE_string("workdir", None, "Folder for checkpoints, metrics, pictures; rerunning resumes from it.")
flags.DEFINE_enum(
    "mode",
    "train",
    ["train", "sample", "eval", "viz"],
    "train (resumes if workdir has a checkpoint), sample (samples.npz), eval (eval.json: metrics beside the "
    "real-vs-real floor) or viz (PCA / t-SNE / latent pictures in workdir/figures).",
)
flags.DEFINE_string(
    "samples",
    None,
    "With --mode=eval: score this .npz of samples (from --mode=sample) instead of a checkpoint.",
)
flags.DEFINE_list(
    "seeds",
    None,
    "With --mode=train: train these seeds (e.g. 0,1,2) of the config in one compiled program (vmap over "
    "seeds); seed s writes workdir/seed_<s>, which the other modes read with --config.seed=<s>.",
)
flags.DEFINE_bool(
    "allow_config_change",
    False,
    "With --mode=train: resume a workdir even though the config differs from the one it recorded in fields "
    "that change the model or its training (the changes are logged).",
)
flags.DEFINE_bool(
    "distributed",
    False,
    "Join a multi-process run through jax.distributed, the cluster detected by JAX (TPU pod slice, SLURM, "
    "Open MPI); or give --coordinator_address, --num_processes and --process_id.",
)
flags.DEFINE_string("coordinator_address", None, "Multi-process: host:port of process 0's coordinator.")
flags.DEFINE_integer("num_processes", None, "Multi-process: how many processes the run has.")
flags.DEFINE_integer("process_id", None, "Multi-process: this process's index, 0 to num_processes - 1.")
flags.mark_flags_as_required(["config", "workdir"])


def run(argv) -> int:
    """Dispatch on --mode; return the process exit status (2 for bad input, 1 for a failed run)."""
    del argv
    if FLAGS.samples is not None and FLAGS.mode != "eval":
        return _fail(config_lib.ConfigError("--samples is read by --mode=eval only"), 2)
    if (FLAGS.seeds is not None or FLAGS.allow_config_change) and FLAGS.mode != "train":
        return _fail(
            config_lib.ConfigError("--seeds and --allow_config_change are read by --mode=train only"), 2
        )
    try:
        seeds = _seeds(FLAGS.seeds)
        _join_processes()
    except config_lib.ConfigError as e:
        return _fail(e, 2)
    from jaxgen import runtime

    runtime.freeze_imported_objects()
    return dispatch(FLAGS.config, FLAGS.workdir, FLAGS.mode, FLAGS.samples, seeds, FLAGS.allow_config_change)


def dispatch(
    config,
    workdir_path: str,
    mode: str = "train",
    samples: str | None = None,
    seeds: list[int] | None = None,
    allow_config_change: bool = False,
) -> int:
    """Run one mode of a config on a workdir; the exit status (2 for bad input, 1 for a failed run).
    Shared by `jaxgen` / `python -m jaxgen.main` and the train-sae / train-aae commands."""
    from jaxgen import runtime, workdir
    from jaxgen import train as train_lib
    from jaxgen.checkpoints import CheckpointError
    from jaxgen.data import DataError
    from jaxgen.evaluate import SamplesError
    from jaxgen.features import ExtractorError

    try:
        config_lib.validate(config)
        if mode != "train":  # read the run as it was trained, whatever the request's model fields say
            config = workdir.config_of_run(config, Path(workdir_path), runtime.log)
            config_lib.validate(config)
        if mode == "train":
            train_lib.train(config, workdir_path, seeds=seeds, allow_config_change=allow_config_change)
        elif mode == "sample":
            from jaxgen.sample import sample_from_checkpoint

            sample_from_checkpoint(config, workdir_path)
        elif mode == "eval":
            from jaxgen.evaluate import evaluate

            evaluate(config, workdir_path, samples)
        else:
            from jaxgen.embed import draw_figures

            draw_figures(config, workdir_path)
    except workdir.TrainingInterrupted as e:
        runtime.log(f"{e}; checkpoint saved. Run the same command again to resume.")
        return 128 + e.signum
    except (
        config_lib.ConfigError,
        SamplesError,
        workdir.WorkdirBusyError,
        workdir.WorkdirError,
        FileNotFoundError,
        DataError,
    ) as e:
        return _fail(e, 2)
    except (ExtractorError, CheckpointError, train_lib.NonFiniteLossError) as e:
        return _fail(e, 1)
    return 0


def _join_processes() -> None:
    """jax.distributed.initialize when the flags ask for several processes (before any device is used)."""
    explicit = (FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
    if not FLAGS.distributed and all(v is None for v in explicit):
        return
    if any(v is None for v in explicit) and any(v is not None for v in explicit):
        raise config_lib.ConfigError(
            "--coordinator_address, --num_processes and --process_id go together (or --distributed alone)"
        )
    if FLAGS.num_processes is not None and not 0 <= FLAGS.process_id < FLAGS.num_processes:
        raise config_lib.ConfigError(
            f"--process_id={FLAGS.process_id} must be in [0, --num_processes={FLAGS.num_processes})"
        )
    from jaxgen import distributed

    distributed.initialize(*explicit)


def _fail(error: Exception, status: int) -> int:
    print(f"jaxgen: {type(error).__name__}: {error}", file=sys.stderr)
    return status


def _seeds(values: list[str] | None) -> list[int] | None:
    if values is None:
        return None
    try:
        return [int(s) for s in values]
    except ValueError:
        raise config_lib.ConfigError(f"--seeds={','.join(values)}: expected integers") from None


def check_overrides(argv: list[str], config) -> str | None:
    """A one-line error for the first --config.a.b=v that names no field of the loaded config, else None
    (ml-collections would raise a bare AttributeError traceback)."""
    for arg in argv[1:]:
        if not arg.startswith("--config."):
            continue
        path = arg[len("--config.") :].split("=", 1)[0].split(".")
        node = config
        for depth, part in enumerate(path):
            fields = sorted(node.keys()) if hasattr(node, "keys") else []
            if part not in fields:
                where = ".".join(path[:depth]) or "the config"
                close = difflib.get_close_matches(part, fields, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                return f"unknown config field {'.'.join(path)!r} in {arg}: {hint}fields of {where}: {fields}"
            node = node[part]
    return None


def _config_path(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing where a bad config file or override ends in one line and exit status 2."""
    path = _config_path(argv)
    try:
        error = check_overrides(argv, config_lib.load_file(path)) if path else None
    except config_lib.ConfigError as e:
        error = str(e)
    if error:
        print(f"jaxgen: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        remaining = FLAGS(argv)
        FLAGS.config.seed  # noqa: B018 - loads the config file now, inside this error handling
    except flags.Error as e:
        print(f"jaxgen: {e}", file=sys.stderr)
        sys.exit(2)
    except (AttributeError, KeyError, ValueError, TypeError, OSError) as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        print(f"jaxgen: could not load --config: {lines[-1] if lines else type(e).__name__}", file=sys.stderr)
        sys.exit(2)
    return remaining


def main() -> None:
    """Entry point of `python -m jaxgen.main`."""
    logging.set_verbosity(logging.WARNING)  # orbax logs every file operation at INFO
    app.run(lambda argv: sys.exit(run(argv)), flags_parser=parse_flags)


if __name__ == "__main__":
    main()
