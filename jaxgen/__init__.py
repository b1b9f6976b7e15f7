"""jaxgen: classic generative models of images as pure JAX/Flax functions on one shared trainer.

import jaxgen
model = jaxgen.load("runs/gan")   # a trained workdir
images = model.sample(16)
"""

import os

__version__ = "0.1.0"

# XLA options of every process that imports jaxgen before JAX starts its backend (the command line, the
# benchmark, a notebook that imports jaxgen first); a value the caller put in XLA_FLAGS wins. Region
# analysis in copy insertion: without it XLA:CPU copied Adam's moments and the params at the top of every
# step of the compiled multi-step loop (17 parameter-sized copies in the MLP AE's step: the param update
# recomputes the new first moment from the old one, which the moment's own in-place update has overwritten
# by then). With it the copies go and the steps compute the same bits: the MLP models' steps 4-14% faster,
# the style AAE's 2-4% slower (README "Loop-carried copies"). jax is pinned below 0.11, whose XLA knows
# the flag (XLA aborts on an unknown one).
XLA_FLAGS_DEFAULTS = ("--xla_cpu_copy_insertion_use_region_analysis=true",)


def _add_xla_flag_defaults(environ=os.environ) -> None:
    """Append each default whose name the caller's XLA_FLAGS does not mention."""
    flags = environ.get("XLA_FLAGS", "")
    for flag in XLA_FLAGS_DEFAULTS:
        if flag.split("=")[0] not in flags:
            flags = f"{flags} {flag}".strip()
    environ["XLA_FLAGS"] = flags


_add_xla_flag_defaults()


def load(workdir):
    """The model trained in workdir (jaxgen.trained.load): sample, reconstruct, encode, classify."""
    from jaxgen.trained import load as load_trained  # imports JAX only when used

    return load_trained(workdir)
