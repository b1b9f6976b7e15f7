"""Semi-supervised GANs: a discriminator that is also the digit classifier, trained on a few labelled
images and many unlabelled ones.

- `fm_gan`: Salimans et al. 2016, "Improved Techniques for Training GANs" (arXiv:1606.03498), section 5.
  The discriminator has K = 10 class logits l_k(x); its probability that x is real is
  D(x) = Z(x) / (Z(x) + 1) with Z(x) = sum_k exp l_k(x), i.e. the logit of "real" is
  s(x) = logsumexp_k l_k(x). The generator is trained by feature matching: the squared distance between the
  mean features (the discriminator's last hidden layer) of a real and of a generated batch.
- `sgan`: Odena 2016, "Semi-Supervised Learning with Generative Adversarial Networks" (arXiv:1606.01583).
  The discriminator has K + 1 outputs, the last one "fake"; s(x) = logsumexp_k l_k(x) - l_fake(x), and the
  generator is trained by the non-saturating GAN loss on s.

Both share the networks of Salimans et al.'s MNIST model: the discriminator an MLP 784-1000-500-250-250-250
with weight-normalised layers, ReLU and Gaussian noise added to its input (sd 0.3) and to every hidden layer
(sd 0.5) while training; the generator uniform noise 100 -> 500 -> 500 (softplus, BatchNorm without scale)
-> 784 (weight-normalised, sigmoid). Discriminator loss (per batch):
    cross-entropy of the labelled batch + model.unlabelled_weight x 1/2 [softplus(-s(x)) + softplus(s(G(z)))].
`model.supervised_only=True` trains the discriminator on the labelled batches alone (no generator, no
unlabelled term): the purely supervised baseline with the same network and the same noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.models import options
from jaxgen.models.family import Abilities, Family, ModelSpec, Setup, Update, apply_net

NUM_CLASSES = 10


class WeightNormDense(nn.Module):
    """Dense layer with weight normalisation (Salimans & Kingma 2016, arXiv:1602.07868): the kernel is
    g * v / |v| per output unit. Called with initialising=True on a batch, it sets g and the bias so that
    each unit's pre-activation has mean 0 and sd 1 there (their data-dependent initialisation) and returns
    that normalised pre-activation. With trainable_scale=False, g lives in the 'weight_scale' collection
    and stays at its initial value (Salimans et al.'s MNIST discriminator trains only the last layer's)."""

    features: int
    trainable_scale: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, initialising: bool = False) -> jax.Array:
        v = self.param("v", nn.initializers.normal(0.1), (x.shape[-1], self.features))
        if self.trainable_scale:
            g = self.param("g", nn.initializers.ones, (self.features,))
        else:
            g = self.variable("weight_scale", "g", lambda: jnp.ones((self.features,))).value
        b = self.param("b", nn.initializers.zeros, (self.features,))
        t = x @ (v * (g / jnp.linalg.norm(v, axis=0)))
        if not initialising:
            return t + b
        mean = t.mean(0)
        sd = jnp.sqrt(jnp.mean((t - mean) ** 2, axis=0) + 1e-12)
        self.put_variable("params" if self.trainable_scale else "weight_scale", "g", g / sd)
        self.put_variable("params", "b", -mean / sd)
        return (t - mean) / sd


class NoisyDiscriminator(nn.Module):
    """Flat pixels [B, D] -> (last hidden features [B, F], logits [B, outputs]). Gaussian noise (rng
    'noise') is added to the input and to each hidden layer's output while training only. Hidden layers
    keep the scale their data-dependent initialisation gives them; the output layer learns its own."""

    widths: Sequence[int]
    outputs: int
    input_noise: float
    hidden_noise: float

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True, initialising: bool = False):
        def noisy(h, sd):
            if not train or sd == 0:
                return h
            return h + sd * jax.random.normal(self.make_rng("noise"), h.shape, h.dtype)

        h = noisy(x, self.input_noise)
        features = h
        for width in self.widths:
            features = nn.relu(WeightNormDense(width, trainable_scale=False)(h, initialising))
            h = noisy(features, self.hidden_noise)
        return features, WeightNormDense(self.outputs)(h, initialising)


class Generator(nn.Module):
    """Noise [B, latent] -> flat pixels [B, D] in (0, 1): Dense, BatchNorm (shift only), softplus per hidden
    width, then a weight-normalised sigmoid layer."""

    widths: Sequence[int]
    pixels: int

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        h = z
        for width in self.widths:
            h = nn.Dense(width, use_bias=False)(h)
            h = nn.BatchNorm(use_running_average=not train, use_scale=False, momentum=0.9)(h)
            h = nn.softplus(h)
        return nn.sigmoid(WeightNormDense(self.pixels)(h))


def real_logit(logits: jax.Array, fake_class: str) -> jax.Array:
    """s(x), the logit of "x is real" [B]: logsumexp of the class logits, less the fake logit when the
    discriminator has one (logits [B, K] or [B, K + 1] with "fake" last)."""
    if fake_class == "fixed":
        return jax.nn.logsumexp(logits, axis=-1)
    return jax.nn.logsumexp(logits[:, :-1], axis=-1) - logits[:, -1]


def unlabelled_loss(real_scores: jax.Array, fake_scores: jax.Array) -> jax.Array:
    """1/2 [-log D(x) - log(1 - D(G(z)))] per example, D = sigmoid(s) (Salimans et al. 2016, eq. 5)."""
    return 0.5 * losses.gan_discriminator_loss(real_scores, fake_scores)


def feature_matching_loss(real_features: jax.Array, fake_features: jax.Array) -> jax.Array:
    """Mean over features of (mean real feature - mean generated feature)^2 (Salimans et al. 2016, 3.1)."""
    return jnp.mean((real_features.mean(0) - fake_features.mean(0)) ** 2)


def make(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Networks 'disc' (and 'gen' unless model.supervised_only); updates: disc, then gen."""
    size, _, channels = setup.image_shape
    side = size - 2 * model.crop
    outputs = NUM_CLASSES + (model.fake_class == "learned")
    disc = NoisyDiscriminator(tuple(model.disc_widths), outputs, model.input_noise, model.hidden_noise)
    gen = Generator(tuple(model.gen_widths), side * side * channels)

    def discriminate(params, state, images, key, train=True):
        """(features, logits) of images [B, S, S, C] in [0, 1]."""
        pixels = layers.crop_flat(images, model.crop)
        rngs = {"noise": key} if train else {}
        return apply_net(disc, "disc", params, state, pixels, train=train, rngs=rngs)[0]

    def generate(params, state, key, n, train):
        """Flat generated pixels [n, D] and the generator's new state (BatchNorm statistics)."""
        z = jax.random.uniform(key, (n, model.latent_dim))
        return apply_net(gen, "gen", params, state, z, train=train)

    def disc_loss(params, state, batch, key):
        """Cross-entropy of batch['labelled_image'] + the weighted real/fake loss of batch['image'] and
        generated images; batch['label'] (hidden by the trainer) is never read."""
        lab_key, real_key, fake_key, gen_key = jax.random.split(key, 4)
        _, lab_logits = discriminate(params, state, batch["labelled_image"], lab_key)
        # over every output (sgan's K + 1 too: a labelled image is real)
        ce = losses.softmax_cross_entropy(lab_logits, batch["labelled_label"]).mean()
        accuracy = jnp.mean(jnp.argmax(lab_logits[:, :NUM_CLASSES], -1) == batch["labelled_label"])
        metrics = {"labelled_cross_entropy": ce, "accuracy": accuracy}
        if model.supervised_only:
            return ce, (metrics, state)
        fake, state = generate(params, state, gen_key, batch["image"].shape[0], train=True)
        fake = jax.lax.stop_gradient(fake)
        _, real_logits = discriminate(params, state, batch["image"], real_key)
        _, fake_logits = apply_net(disc, "disc", params, state, fake, train=True, rngs={"noise": fake_key})[0]
        real_scores = real_logit(real_logits, model.fake_class)
        fake_scores = real_logit(fake_logits, model.fake_class)
        unlabelled = unlabelled_loss(real_scores, fake_scores).mean()
        metrics.update(
            unlabelled=unlabelled,
            real_correct=jnp.mean(real_scores > 0),
            fake_correct=jnp.mean(fake_scores < 0),
        )
        return ce + model.unlabelled_weight * unlabelled, (metrics, state)

    def gen_loss(params, state, batch, key):
        """Feature matching against batch['image'] (fm_gan) or -log D(G(z)) (sgan)."""
        gen_key, real_key, fake_key = jax.random.split(key, 3)
        fake, state = generate(params, state, gen_key, batch["image"].shape[0], train=True)
        fake_features, fake_logits = apply_net(
            disc, "disc", params, state, fake, train=True, rngs={"noise": fake_key}
        )[0]
        if model.generator_loss == "feature_matching":
            real_features, _ = discriminate(params, state, batch["image"], real_key)
            loss = feature_matching_loss(jax.lax.stop_gradient(real_features), fake_features)
        else:
            loss = losses.gan_generator_loss(real_logit(fake_logits, model.fake_class)).mean()
        return loss, ({"loss": loss}, state)

    def classify(params, state, images):
        return discriminate(params, state, images, None, train=False)[1][:, :NUM_CLASSES]

    def encode(params, state, images):
        """The discriminator's last hidden features [B, F] (what feature matching matches)."""
        return discriminate(params, state, images, None, train=False)[0]

    def initialise(params, state, images, key):
        """Weight norm's data-dependent initialisation of the discriminator on images [N, S, S, C]."""
        variables = {"params": params["disc"], **state["disc"]}
        pixels = layers.crop_flat(images, model.crop)
        _, updated = disc.apply(
            variables, pixels, train=True, initialising=True, rngs={"noise": key}, mutable=True
        )
        params = {**params, "disc": updated["params"]}
        return params, {**state, "disc": {"weight_scale": updated["weight_scale"]}}

    def sample(params, state, key, n):
        pixels, _ = generate(params, state, key, n, train=False)
        return {"images": layers.uncrop_flat(pixels, model.crop, size, channels)}

    networks = {"disc": disc} if model.supervised_only else {"disc": disc, "gen": gen}
    updates = (Update("disc", ("disc",), disc_loss),)
    if not model.supervised_only:
        updates += (Update("gen", ("gen",), gen_loss),)
    return Family(
        networks=networks,
        example_inputs={
            "disc": (jax.ShapeDtypeStruct((1, side * side * channels), jnp.float32),),
            "gen": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={name: setup.optimizer for name in networks},
        updates=updates,
        data="labelled_subset",
        initialise=initialise,
        averaged=("disc",),  # the classifier; the generator's BatchNorm statistics fit its live params
        can=Abilities(classify=classify, encode=encode, sample=None if model.supervised_only else sample),
    )


def _options(fake_class: str, generator_loss: str) -> ml_collections.ConfigDict:
    o = ml_collections.ConfigDict()
    o.latent_dim = 100  # size of the generator's uniform noise
    o.disc_widths = (1000, 500, 250, 250, 250)  # the discriminator's hidden layers (Salimans et al.)
    o.gen_widths = (500, 500)  # the generator's hidden layers
    o.input_noise = 0.3  # sd of the Gaussian noise added to the discriminator's input while training
    o.hidden_noise = 0.5  # sd of the noise added to each of its hidden layers while training
    o.fake_class = fake_class  # fixed: "fake" is the logit 0 (Salimans) | learned: a K+1-th output (Odena)
    # feature_matching (Salimans) | gan: the non-saturating -log D(G(z)) (Odena)
    o.generator_loss = generator_loss
    o.unlabelled_weight = 1.0  # weight of the real/fake loss beside the labelled cross-entropy
    o.supervised_only = False  # True: the discriminator on the labelled images alone (the baseline)
    o.crop = 2  # pixels cut from each border before the MLPs (2: MNIST's 28x28 in the 32x32)
    return o


def _widths_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    for field in ("disc_widths", "gen_widths"):
        widths = tuple(model[field])
        if not widths or any(not isinstance(w, int) or w <= 0 for w in widths):
            return f"model.{field}={widths} must be a non-empty list of positive layer sizes"
    return options.crop_problem(model, data)


SETTINGS = {
    "optim.lr": 3e-3,  # Adam 3e-3, beta1 0.5, batch 100 (Salimans et al.'s MNIST code)
    "optim.b1": 0.5,
    "optim.eps": 0.0,  # their Adam adds 1e-8 under the square root: small gradients make small steps
    "optim.eps_root": 1e-8,
    "train.batch_size": 100,
    "train.num_steps": 18000,  # 30 epochs (theirs: 300)
    "train.eval_every": 600,  # once per epoch: the error curve
    "train.checkpoint_every": 600,
    # evaluate the running average of the params, as Salimans et al. do (theirs: 0.9999 over 300 epochs)
    "train.average_decay": 0.999,
    "data.num_labels": 100,
}
CHOICES = {"fake_class": ("fixed", "learned"), "generator_loss": ("feature_matching", "gan")}
RULES = {
    "choices": CHOICES,
    "positive": ("latent_dim",),
    "non_negative": ("input_noise", "hidden_noise", "unlabelled_weight"),
    "check": _widths_problem,
}
MODELS = {
    "fm_gan": ModelSpec(make, lambda: _options("fixed", "feature_matching"), SETTINGS, **RULES),
    "sgan": ModelSpec(make, lambda: _options("learned", "gan"), SETTINGS, **RULES),
}
