"""The contract between a model family and the one trainer.

A family declares its networks, one optimizer per network and an ordered list of updates. Each update
differentiates a pure loss with respect to some networks' params and is run `repeat` times per training
step (WGAN: critic x5, then generator). It also says what data it needs (`data`, one of
`jaxgen.data.feeds.KINDS`), what the trained model can do (`can`) and which pictures it can draw
(`pictures`). The trainer runs any such list and never asks which model it is.

Loss signature (shapes in each family's docstrings):

    loss(params, state, batch, key) -> (scalar, (metrics, new_state))

`params` maps network name -> params; `state` maps network name -> its non-trainable collections
(BatchNorm statistics) plus an "extras" entry for model-level variables; `batch` holds what the family's
data kind feeds (jaxgen/data/feeds.py): always "image" float32 [B, H, W, C] in [0, 1] and "label" int32 [B].

A model is registered as a `ModelSpec`: its factory, its config block (the `model` fields with defaults,
validated by `jaxgen.config.validate` with the spec's rules) and the paper's values of shared fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn
import jax
import ml_collections
import optax

from jaxgen import layers

Params = dict[str, Any]
State = dict[str, Any]
Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
LossFn = Callable[[Params, State, Batch, jax.Array], tuple[jax.Array, tuple[Metrics, State]]]
ImagesFn = Callable[[Params, State, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Boosted:
    """A number of repetitions that depends on the step: `usual`, but `boost` for the first `first` steps
    and every `every`-th step (WGAN's critic: 100 for the first 25 generator steps and every 500th, else 5).

    `count` and `before` work on Python ints and on traced steps alike.
    """

    usual: int
    boost: int
    first: int
    every: int

    @property
    def most(self) -> int:
        return max(self.usual, self.boost)

    def boosted(self, step):
        """Whether step is boosted."""
        return (step < self.first) | (step % self.every == 0)

    def count(self, step):
        """Repetitions at step."""
        return jax.numpy.where(self.boosted(step), self.boost, self.usual)

    def before(self, step):
        """Repetitions of all steps before step: usual x step + (boost - usual) x the boosted steps."""
        early = jax.numpy.minimum(step, self.first)
        later = jax.numpy.maximum(0, (step - 1) // self.every - (self.first - 1) // self.every)
        boosted = early + jax.numpy.where(step > self.first, later, 0)
        return self.usual * step + (self.boost - self.usual) * boosted


@dataclasses.dataclass(frozen=True)
class Update:
    """One gradient update: `loss` differentiated w.r.t. `networks`' params, repeated `repeat` times per step
    (a number, or a Boosted schedule of the step).

    `when(state) -> bool scalar`, if given, decides from the model state as the update starts whether its
    params and optimizer state change at all (VAE-GAN's equilibrium: a network sits out while it is far
    ahead of its adversary); the loss's new state (BatchNorm statistics, extras) is kept either way, and the
    update logs `applied` (1 or 0).
    """

    name: str
    networks: tuple[str, ...]
    loss: LossFn
    repeat: int | Boosted = 1
    when: Callable[[State], jax.Array] | None = None
    # its own optimizer, with its own state (opt_state["phases"][name][network]), for networks that
    # several updates train at different rates (the semi-supervised AAE's phases); None: each network's
    optimizer: optax.GradientTransformation | None = None


@dataclasses.dataclass(frozen=True)
class Prior:
    """The distribution an adversarial autoencoder pushes its codes to: `draw(key, n) -> codes [n, D]`;
    for a prior split by label (AAE's label_prior), `draw_given(key, labels [n]) -> codes [n, D]`, each from
    its label's part: the target of codes whose labels are known, whatever the labels' frequencies."""

    name: str
    draw: Callable[[jax.Array, int], jax.Array]
    draw_given: Callable[[jax.Array, jax.Array], jax.Array] | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Abilities:
    """What a trained model can do; None where it cannot. Images are [B, H, W, C] in [0, 1]."""

    # (params, state, key, n) -> {"images": [n, H, W, C], and "labels" [n] (or other codes [n, ...]) that
    # drew them, for conditional models}
    sample: Callable[[Params, State, jax.Array, int], dict[str, jax.Array]] | None = None
    # (params, state, images) -> reconstructions
    reconstruct: ImagesFn | None = None
    # (params, state, batch) -> {metric: per-example values [B]}, averaged over the test set. The batch holds
    # what training batches hold (test split) and "index" int32 [B], each image's position in the split
    evaluate: Callable[[Params, State, Batch], Metrics] | None = None
    # (params, state, images) -> codes [B, D]: latent probes, scatter / t-SNE pictures
    encode: ImagesFn | None = None
    # (params, state, codes [B, D]) -> images: the decoded-manifold and interpolation pictures
    decode: ImagesFn | None = None
    # (params, state, codes [B, D]) -> images of domain B, from the latent space the two domains share
    # (UNIT): the interpolation picture then walks between two codes in both domains at once
    decode_b: ImagesFn | None = None
    # (params, state, images of domain B) -> their codes [B, D] in that shared latent space
    encode_b: ImagesFn | None = None
    # (params, state, images of domain B) -> their reconstructions by domain B's own autoencoder
    reconstruct_b: ImagesFn | None = None
    # where codes live: "gaussian" (pushed to N(0, I): Gaussian-fit metric, manifold grid at Gaussian
    # quantiles), "unit_box" (sigmoid-bounded: grid over (0, 1)) or "data" (grid over the test codes' range)
    code_space: str = "data"
    # (params, state, images, key, k) -> log p(x, z_i) - log q(z_i | x) [B, k], z_i ~ q(z | x): importance
    # weights of a likelihood model, for the ELBO and the IWAE bound (jaxgen.metrics)
    log_weights: Callable[[Params, State, jax.Array, jax.Array, int], jax.Array] | None = None
    binary_data: bool = False  # the likelihood is of dynamically binarised pixels (else of grey levels)
    # (params, state, images) -> class logits [B, K]: the test accuracy, error and cross-entropy
    classify: ImagesFn | None = None
    # (params, state, images of domain B) -> class logits [B, K], a classifier never shown a label of domain
    # B (unsupervised domain adaptation): the accuracy on domain B's test split
    classify_b: ImagesFn | None = None
    # (params, state, images) -> index [B] of an unsupervised categorical code (InfoGAN's Q head), scored
    # by the best one-to-one matching of clusters to labels
    cluster: Callable[[Params, State, jax.Array], jax.Array] | None = None
    # (params, state, images of domain A) -> the same images written in domain B (two-domain models)
    translate: ImagesFn | None = None
    # (params, state, images of domain B) -> the same images written in domain A (unpaired models, both ways)
    translate_back: ImagesFn | None = None
    # the distribution the codes are pushed to (adversarial autoencoders): the prior-fit picture and the
    # distance of the test codes from it
    prior: Prior | None = None
    # (params, state, images) -> what a spatial transformer makes of the images before classifying them
    rectify: ImagesFn | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Pictures:
    """Hooks of `--mode=viz` pictures that only some families can draw."""

    # (key, images) -> the corrupted inputs a denoising model restores: the denoising picture
    corrupt: Callable[[jax.Array, jax.Array], jax.Array] | None = None
    # params -> {title: 2-D array}: weight matrices worth drawing as heatmaps (the linear AE's W2.W1)
    matrices: Callable[[Params], dict[str, jax.Array]] | None = None
    # (params, state, key, n) -> {title: images [R, C, H, W, ch]}: tables whose rows and columns each set
    # one code or noise vector (the digit grid of conditional models, InfoGAN's sweeps)
    sweeps: Callable[[Params, State, jax.Array, int], dict[str, jax.Array]] | None = None
    # (params, state, images) -> [B, 10, H, W, C]: each image's style written as every digit
    restyle: Callable[[Params, State, jax.Array], jax.Array] | None = None


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a static argument of jitted helpers
class Family:
    """Everything the trainer needs to train one model, and what the trained model can do."""

    networks: Mapping[str, nn.Module]
    example_inputs: Mapping[str, tuple[jax.ShapeDtypeStruct, ...]]  # per network, for init
    optimizers: Mapping[str, optax.GradientTransformation]  # per network, for updates without their own
    updates: tuple[Update, ...]
    data: str = "labelled"  # what the trainer feeds (jaxgen.data.feeds.KINDS)
    # initial model-level variables, kept in state["extras"] and updated by the losses (BEGAN's k)
    extras: Mapping[str, jax.Array] = dataclasses.field(default_factory=dict)
    can: Abilities = Abilities()
    pictures: Pictures = Pictures()
    # (params, state, images [N, H, W, C] in [0, 1], key) -> (params, state): a data-dependent initialisation
    # (weight normalisation's, Salimans & Kingma 2016), applied once to fresh params on training images
    initialise: Callable[[Params, State, jax.Array, jax.Array], tuple[Params, State]] | None = None
    # the networks whose params' running average (train.average_decay) a trained model is used with;
    # None: every network
    averaged: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a factory is given besides its config block: the data's shapes, the optimizer every network
    gets (a family may wrap it), and how conv layers compute (the runtime section)."""

    image_shape: tuple[int, int, int]
    optimizer: optax.GradientTransformation
    conv: layers.ConvOptions = layers.ConvOptions()
    image_shape_b: tuple[int, int, int] | None = None  # two-domain data: the second domain's images
    # lr_scale -> the configured optimizer at optim.lr x lr_scale (per-update optimizers)
    scaled_optimizer: Callable[[float], optax.GradientTransformation] | None = None


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A registered model: the factory, its config block and the rules `jaxgen.config.validate` applies."""

    make: Callable[[ml_collections.ConfigDict, Setup], Family]
    options: Callable[[], ml_collections.ConfigDict]  # the `model` block: every field, a default, a comment
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # shared fields: paper values
    choices: Mapping[str, tuple] = dataclasses.field(default_factory=dict)  # field -> allowed values
    positive: tuple[str, ...] = ()  # fields that must be > 0
    non_negative: tuple[str, ...] = ()  # fields that must be >= 0
    # (model block, data block) -> why they cannot build this model (naming the fields), or None
    check: Callable[[ml_collections.ConfigDict, ml_collections.ConfigDict], str | None] | None = None


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
