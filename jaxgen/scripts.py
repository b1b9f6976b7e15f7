"""`train-sae` and `train-aae`: the two commands of the mnist-style repository, with its flags, on jaxgen.

They build the style autoencoder / style AAE configs (configs/style_ae.py, configs/style_aae.py) and run the
shared trainer; every other setting is the config's. Epochs count MNIST's 60,000 training images, and the
test metrics and a checkpoint come once an epoch, as in the original. Rerunning with the same --ckpt-dir
resumes.
"""

from __future__ import annotations

import argparse
import sys

import ml_collections

from jaxgen import config as config_lib

MNIST_TRAIN_IMAGES = 60_000


def parser(description: str, epochs: int, ckpt_dir: str) -> argparse.ArgumentParser:
    """The mnist-style flags; defaults are jaxgen's style configs' (its AdamW 4e-4, batch 64)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--batch-size", type=int, default=64, metavar="B", help="batch size (default: 64)")
    p.add_argument("--epochs", type=int, default=epochs, metavar="E", help=f"epochs (default: {epochs})")
    p.add_argument("--lr", type=float, default=4e-4, help="AdamW learning rate (default: 0.0004)")
    p.add_argument(
        "--feat-size", type=int, default=4, metavar="N", help="size of the style vector (default: 4)"
    )
    p.add_argument(
        "--ckpt-dir",
        default=ckpt_dir,
        metavar="DIR",
        help=f"workdir: checkpoints, metrics, pictures ({ckpt_dir})",
    )
    p.add_argument(
        "--data-dir",
        default="",
        metavar="DIR",
        help="folder with MNIST's four IDX files; empty: jaxgen's offline sources (cache, then mirror)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default: 0)")
    p.add_argument(
        "--mode", choices=("train", "eval", "viz"), default="train", help="train (default), eval or viz"
    )
    return p


def style_config(args: argparse.Namespace, adversarial: bool) -> ml_collections.ConfigDict:
    """The style AAE config (adversarial) or the plain style autoencoder, with the flags applied."""
    for flag, value in (
        ("--batch-size", args.batch_size),
        ("--epochs", args.epochs),
        ("--feat-size", args.feat_size),
    ):
        if value <= 0:
            raise config_lib.ConfigError(f"{flag}={value} must be positive")
    model = {} if adversarial else {"adversarial_weight": 0.0}
    config = config_lib.base_config("style_aae", model=model)
    steps_per_epoch = max(1, MNIST_TRAIN_IMAGES // args.batch_size)
    config.seed = args.seed
    config.train.batch_size = args.batch_size
    config.train.num_steps = args.epochs * steps_per_epoch
    config.train.eval_every = config.train.checkpoint_every = steps_per_epoch
    config.optim.lr = args.lr
    config.model.latent_dim = args.feat_size
    if args.data_dir:
        config.data.idx_dir = args.data_dir
    return config


def _main(adversarial: bool, argv: list[str] | None) -> int:
    name = "train-aae" if adversarial else "train-sae"
    description = "MNIST handwriting-style " + ("adversarial autoencoder" if adversarial else "autoencoder")
    workdir = "runs/style_aae" if adversarial else "runs/style_ae"
    args = parser(description, 12 if adversarial else 10, workdir).parse_args(argv)
    from absl import logging

    from jaxgen.main import dispatch

    logging.set_verbosity(logging.WARNING)  # orbax logs every file operation at INFO

    try:
        config = style_config(args, adversarial)
    except config_lib.ConfigError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 2
    from jaxgen import runtime

    runtime.freeze_imported_objects()
    return dispatch(config, args.ckpt_dir, args.mode)


def train_sae(argv: list[str] | None = None) -> None:
    """Entry point of `train-sae`: the plain style autoencoder (configs/style_ae.py)."""
    sys.exit(_main(False, argv))


def train_aae(argv: list[str] | None = None) -> None:
    """Entry point of `train-aae`: the style adversarial autoencoder (configs/style_aae.py)."""
    sys.exit(_main(True, argv))
