"""The contract between a model family and the one trainer.

A family declares its networks, one optimizer per network and an ordered list of updates. Each update
differentiates a pure loss with respect to some networks' params and is run `repeat` times per training
step (WGAN: critic x5, then generator). The trainer runs any such list and never asks which model it is.

Loss signature (shapes in each family's docstrings):

    loss(params, state, batch, key) -> (scalar, (metrics, new_state))

`params` maps network name -> params; `state` maps network name -> its non-trainable collections
(BatchNorm statistics) plus an "extras" entry for model-level variables; `batch` holds "image" float32
[B, H, W, C] in [0, 1] and "label" int32 [B].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn
import jax
import optax

Params = dict[str, Any]
State = dict[str, Any]
Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
LossFn = Callable[[Params, State, Batch, jax.Array], tuple[jax.Array, tuple[Metrics, State]]]


@dataclasses.dataclass(frozen=True)
class Update:
    """One gradient update: `loss` differentiated w.r.t. `networks`' params, repeated `repeat` times."""

    name: str
    networks: tuple[str, ...]
    loss: LossFn
    repeat: int = 1


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a static argument of jitted helpers
class Family:
    """Everything the trainer needs to train, sample and evaluate one model."""

    networks: Mapping[str, nn.Module]
    example_inputs: Mapping[str, tuple[jax.ShapeDtypeStruct, ...]]  # per network, for init
    optimizers: Mapping[str, optax.GradientTransformation]
    updates: tuple[Update, ...]
    # (params, state, key, n) -> {"images": [n, H, W, C] in [0, 1], optional "labels": [n]}
    sample: Callable[[Params, State, jax.Array, int], dict[str, jax.Array]] | None = None
    # (params, state, images in [0, 1]) -> reconstructions in [0, 1]
    reconstruct: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # (params, state, batch) -> {metric: per-example values [B]}; averaged over the test set. The batch also
    # holds "index" int32 [B], each image's position in the split (for per-image noise keys)
    evaluate: Callable[[Params, State, Batch], Metrics] | None = None
    conditional: bool = False  # samples come with labels
    # (params, state, images in [0, 1]) -> codes [B, D]: latent probes, scatter / t-SNE pictures
    encode: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # (params, state, codes [B, D]) -> images [B, H, W, C] in [0, 1]: the decoded-manifold picture
    decode: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # where codes live, for the manifold grid: "gaussian" (a N(0, I) prior: grid at Gaussian quantiles),
    # "unit_box" (sigmoid-bounded codes: grid over (0, 1)) or "data" (grid over the test codes' range)
    code_space: str = "data"
    # (params, state, binary images, key, k) -> log p(x, z_i) - log q(z_i | x) [B, k], z_i ~ q(z | x):
    # importance weights of a likelihood model, for the ELBO and the IWAE bound (jaxgen.metrics)
    log_weights: Callable[[Params, State, jax.Array, jax.Array, int], jax.Array] | None = None
    # (key, images in [0, 1]) -> the corrupted inputs a denoising model restores: the denoising picture
    corrupt: Callable[[jax.Array, jax.Array], jax.Array] | None = None
    # params -> {title: 2-D array}: weight matrices worth drawing as heatmaps (the linear AE's W2.W1)
    matrices: Callable[[Params], dict[str, jax.Array]] | None = None
    # initial model-level variables, kept in state["extras"] and updated by the losses (BEGAN's k)
    extras: Mapping[str, jax.Array] = dataclasses.field(default_factory=dict)
    # (params, state, key, n) -> {title: images [R, C, H, W, ch] in [0, 1]}: tables of samples whose rows
    # and columns each set one code or noise vector (the digit grid of conditional GANs, InfoGAN sweeps)
    sweeps: Callable[[Params, State, jax.Array, int], dict[str, jax.Array]] | None = None
    # (params, state, images in [0, 1]) -> cluster index [B] of an unsupervised categorical code (InfoGAN's
    # Q head), scored by the best one-to-one matching of clusters to labels
    cluster: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # (key, n) -> codes [n, D] drawn from the prior the codes are pushed to (an AAE's): the prior-fit picture
    prior: Callable[[jax.Array, int], jax.Array] | None = None
    # (params, state, images in [0, 1]) -> [B, 10, H, W, C]: each image's style (its code) written as every
    # digit - the style-transfer picture of models whose decoder takes (digit, style)
    restyle: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # the losses read labelled examples only from batch["labelled_image"] / batch["labelled_label"], drawn
    # from the data.num_labels subset; batch["label"] of the unlabelled stream is -1 (jaxgen/train.py)
    semi_supervised: bool = False


def init_networks(family: Family, key: jax.Array) -> tuple[Params, State]:
    """Initialise every network from its example inputs; split params from the other collections."""
    params, state = {}, {"extras": {name: jax.numpy.asarray(v) for name, v in family.extras.items()}}
    for i, (name, module) in enumerate(sorted(family.networks.items())):
        inputs = [jax.numpy.zeros(s.shape, s.dtype) for s in family.example_inputs[name]]
        variables = module.init(jax.random.fold_in(key, i), *inputs, train=False)
        params[name] = variables["params"]
        state[name] = {k: v for k, v in variables.items() if k != "params"}
    return params, state


def apply_net(
    module: nn.Module, name: str, params: Params, state: State, *inputs: jax.Array, train: bool, **kwargs
) -> tuple[Any, State]:
    """Apply network `name`; in training mode its BatchNorm statistics are updated in the returned state."""
    collections = state.get(name, {})
    variables = {"params": params[name], **collections}
    if train and collections:
        out, updated = module.apply(variables, *inputs, train=True, mutable=list(collections), **kwargs)
        return out, {**state, name: updated}
    return module.apply(variables, *inputs, train=train, **kwargs), state
