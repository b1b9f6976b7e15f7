"""Adversarial autoencoders (Makhzani et al. 2015, "Adversarial Autoencoders", arXiv:1511.05644).

An autoencoder whose codes are pushed towards a prior by a discriminator on the code space: the
discriminator learns to tell prior samples ("real") from the encoder's codes ("fake"), and the encoder,
besides reconstructing, learns to fool it. Three families share the pieces:

- `aae`: MLP encoder with a linear code output, MLP decoder, code discriminator; the prior is
  `model.prior` (jaxgen/models/priors.py: gaussian, mixture, triangle, donut, swiss_roll).
- `style_aae`: the handwriting-style model. The encoder outputs digit logits (cross-entropy on the labels)
  and a `model.latent_dim` style vector; the decoder writes (one-hot digit, style). Its discriminator sees
  (one-hot digit, style), so every digit's styles are pushed to N(0, I), not only their mixture.
  `model.adversarial_weight=0` drops the discriminator: the plain style autoencoder (the original's
  train-sae). `model.arch='conv'` is that repository's network (GroupNorm convs), 'mlp' the paper's.
- `ssaae`: the semi-supervised AAE (paper section 5). The encoder gives q(y | x) (softmax over 10) and a
  style z; the decoder reconstructs from (y, z); one discriminator pushes y to one-hot samples of a uniform
  categorical, another pushes z to N(0, I); the labelled batches (`data.num_labels` images, chosen by the
  trainer) train q(y | x) by cross-entropy. Its losses never read the unlabelled batch's labels.

The paper alternates a reconstruction phase and a regularisation phase; here the encoder and decoder take
one update on reconstruction + `model.adversarial_weight` x the encoder's adversarial loss (+
`model.label_weight` x the cross-entropy), after the discriminators' update.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import layers, losses
from jaxgen.models import priors
from jaxgen.models.autoencoder import MLPDecoder, MLPEncoder
from jaxgen.models.family import Family, Update, apply_net

NUM_CLASSES = 10
STYLE_CONV_DISC = (64, 8)  # the style repository's discriminator: style -> 64 -> 8 -> 1
torch_default_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")  # PyTorch's Conv2d


class Discriminator(nn.Module):
    """Codes [B, D] -> logit [B]: Dense + ReLU per width, then a linear unit."""

    widths: Sequence[int]

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        for width in self.widths:
            x = nn.relu(nn.Dense(width)(x))
        return nn.Dense(1)(x)[:, 0]


class ConvStyleEncoder(nn.Module):
    """Images [B, S, S, C] -> [B, outputs]: conv5 s2 (16) and conv3 (32), each GroupNorm + ReLU, a 3x3 s2
    max-pool and a dense layer (the style repository's encoder)."""

    outputs: int
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = torch_default_init
        x = layers.Conv(16, 5, 2, 2, use_bias=False, conv=self.conv, kernel_init=init)(x)
        x = nn.relu(nn.GroupNorm(num_groups=4, epsilon=1e-5)(x))
        x = layers.Conv(32, 3, 1, 1, use_bias=False, conv=self.conv, kernel_init=init)(x)
        x = nn.relu(nn.GroupNorm(num_groups=8, epsilon=1e-5)(x))
        x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        return nn.Dense(self.outputs)(x.reshape(x.shape[0], -1))


def _upsample(x: jax.Array) -> jax.Array:
    """Nearest-neighbour 2x up-sampling of [B, H, W, C]."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


class ConvStyleDecoder(nn.Module):
    """Codes [B, D] -> pre-activation images [B, S, S, C]: dense to an (S/4)^2 x 32 map, two nearest 2x
    up-samplings each followed by a conv3 + GroupNorm + ReLU (32, then 4 channels), a final conv3."""

    size: int
    channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        init, side = torch_default_init, self.size // 4
        x = nn.Dense(side * side * 32)(z).reshape(z.shape[0], side, side, 32)
        for width, groups in ((32, 8), (4, 2)):
            x = layers.Conv(width, 3, 1, 1, use_bias=False, conv=self.conv, kernel_init=init)(_upsample(x))
            x = nn.relu(nn.GroupNorm(num_groups=groups, epsilon=1e-5)(x))
        return layers.Conv(self.channels, 3, 1, 1, conv=self.conv, kernel_init=init)(x)


def _adversarial_losses(disc: nn.Module, name: str, params, state, real: jax.Array, fake: jax.Array):
    """(discriminator loss [B] with the fakes detached, its accuracy on both halves) for codes [B, D]."""
    real_logits, state = apply_net(disc, name, params, state, real, train=True)
    fake_logits, state = apply_net(disc, name, params, state, jax.lax.stop_gradient(fake), train=True)
    accuracy = 0.5 * (jnp.mean(real_logits > 0) + jnp.mean(fake_logits < 0))
    return losses.gan_discriminator_loss(real_logits, fake_logits), accuracy, state


class _Pixels:
    """The reconstruction target: the pixels inside a `crop` border of [B, S, S, C] images, flattened."""

    def __init__(self, image_shape, crop: int, kind: str):
        self.size, _, self.channels = image_shape
        self.crop, self.kind = crop, kind
        self.count = (self.size - 2 * crop) ** 2 * self.channels

    def flat(self, images: jax.Array) -> jax.Array:
        return layers.crop_flat(images, self.crop)

    def error(self, logits: jax.Array, images: jax.Array) -> jax.Array:
        """Per-example error [B] of decoder logits [B, D] against images: BCE on logits, or L1 / MSE on
        sigmoid pixels."""
        out = logits if self.kind == "bce" else jax.nn.sigmoid(logits)
        return losses.reconstruction_loss(out, self.flat(images), self.kind)

    def image(self, logits: jax.Array) -> jax.Array:
        return layers.uncrop_flat(jax.nn.sigmoid(logits), self.crop, self.size, self.channels)


# ----------------------------------------------------------------------------------------- the AAE


def make_aae(
    model: ml_collections.ConfigDict, optimizer: optax.GradientTransformation, image_shape
) -> Family:
    """AAE with a chosen prior: networks enc, dec, disc; updates: disc, then enc + dec on reconstruction +
    model.adversarial_weight x the non-saturating adversarial loss of the codes."""
    problem = priors.prior_problem(model.prior, model.latent_dim)
    if problem:
        raise ValueError(problem)
    pixels = _Pixels(image_shape, model.crop, model.recon_loss)
    prior = priors.PRIORS[model.prior]
    enc = MLPEncoder(model.latent_dim, model.hidden, model.depth)
    dec = MLPDecoder(pixels.count, model.hidden, model.depth)
    disc = Discriminator((model.hidden,) * model.depth)

    def encode(params, state, images):
        codes, _ = apply_net(enc, "enc", params, state, pixels.flat(images), train=False)
        return codes

    def decode(params, state, codes):
        logits, _ = apply_net(dec, "dec", params, state, codes, train=False)
        return pixels.image(logits)

    def disc_loss(params, state, batch, key):
        """-log D(z_prior) - log(1 - D(enc(x))) for batch['image'] [B, S, S, C]; z_prior [B, latent]."""
        codes, state = apply_net(enc, "enc", params, state, pixels.flat(batch["image"]), train=True)
        real = prior(key, codes.shape[0], model.latent_dim)
        loss, accuracy, state = _adversarial_losses(disc, "disc", params, state, real, codes)
        return loss.mean(), ({"loss": loss.mean(), "real_fake_accuracy": accuracy}, state)

    def ae_loss(params, state, batch, key):
        """Per-pixel reconstruction error + adversarial_weight x -log D(enc(x)), batch mean."""
        del key
        codes, state = apply_net(enc, "enc", params, state, pixels.flat(batch["image"]), train=True)
        logits, state = apply_net(dec, "dec", params, state, codes, train=True)
        recon = pixels.error(logits, batch["image"]).mean()
        fooling, state = apply_net(disc, "disc", params, state, codes, train=True)
        adversarial = losses.gan_generator_loss(fooling).mean()
        metrics = {f"recon_{model.recon_loss}": recon, "adversarial": adversarial}
        return recon + model.adversarial_weight * adversarial, (metrics, state)

    def evaluate(params, state, batch):
        logits, _ = apply_net(dec, "dec", params, state, encode(params, state, batch["image"]), train=False)
        target = pixels.flat(batch["image"])
        return {
            "mse": losses.reconstruction_loss(jax.nn.sigmoid(logits), target, "mse"),
            "bce": losses.reconstruction_loss(logits, target, "bce"),
        }

    def sample(params, state, key, n):
        return {"images": decode(params, state, prior(key, n, model.latent_dim))}

    return Family(
        networks={"enc": enc, "dec": dec, "disc": disc},
        example_inputs={
            "enc": (jax.ShapeDtypeStruct((1, pixels.count), jnp.float32),),
            "dec": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
            "disc": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={"enc": optimizer, "dec": optimizer, "disc": optimizer},
        updates=(Update("disc", ("disc",), disc_loss), Update("ae", ("enc", "dec"), ae_loss)),
        sample=sample,
        reconstruct=lambda params, state, images: decode(params, state, encode(params, state, images)),
        evaluate=evaluate,
        encode=encode,
        decode=decode,
        code_space="gaussian" if model.prior == "gaussian" else "data",
        prior=lambda key, n: prior(key, n, model.latent_dim),
    )


# ----------------------------------------------------------------------------------------- digit + style


def _style_networks(model: ml_collections.ConfigDict, image_shape):
    """(encoder to [B, 10 + style], decoder from [B, 10 + style], encoder input of images, discriminator
    widths) for model.arch 'conv' (the style repository) or 'mlp' (the paper: model.depth x model.hidden)."""
    size, _, channels = image_shape
    outputs = NUM_CLASSES + model.latent_dim
    if model.arch == "conv":
        conv = layers.ConvOptions(model.conv_impl, model.compute_dtype)
        dec = ConvStyleDecoder(size, channels, conv)
        return ConvStyleEncoder(outputs, conv), dec, (lambda images: images), STYLE_CONV_DISC
    if model.arch == "mlp":
        enc = MLPEncoder(outputs, model.hidden, model.depth)
        dec = MLPDecoder((size - 2 * model.crop) ** 2 * channels, model.hidden, model.depth)
        return enc, dec, (lambda images: layers.crop_flat(images, model.crop)), (model.hidden,) * model.depth
    raise ValueError(f"model.arch={model.arch!r}: the style models are 'conv' or 'mlp'")


def _style_parts(model, image_shape):
    """The pieces both style families share: networks and the encode / decode / sample / picture hooks."""
    enc, dec, enc_input, disc_widths = _style_networks(model, image_shape)
    pixels = _Pixels(image_shape, model.crop, model.recon_loss)
    conv_decoder = model.arch == "conv"
    style_dim = model.latent_dim

    def encode_both(params, state, images, train):
        """(digit logits [B, 10], style [B, latent_dim]) of images [B, S, S, C] in [0, 1]."""
        out, state = apply_net(enc, "enc", params, state, enc_input(images), train=train)
        return out[:, :NUM_CLASSES], out[:, NUM_CLASSES:], state

    def decode_logits(params, state, digit, style, train):
        """Decoder logits over the modelled pixels [B, D] for digit probabilities / one-hots [B, 10]."""
        out, state = apply_net(dec, "dec", params, state, jnp.concatenate([digit, style], -1), train=train)
        return (layers.crop_flat(out, model.crop) if conv_decoder else out), state

    def write(params, state, digits, style):
        """Images [B, S, S, C] of digits [B] (int) in styles [B, latent_dim]."""
        logits, _ = decode_logits(params, state, jax.nn.one_hot(digits, NUM_CLASSES), style, train=False)
        return pixels.image(logits)

    def encode(params, state, images):
        return encode_both(params, state, images, train=False)[1]

    def reconstruct(params, state, images):
        logits, style, _ = encode_both(params, state, images, train=False)
        return write(params, state, jnp.argmax(logits, -1), style)

    def sample(params, state, key, n):
        label_key, style_key = jax.random.split(key)
        labels = jax.random.permutation(label_key, jnp.arange(n) % NUM_CLASSES)
        return {
            "images": write(params, state, labels, priors.gaussian(style_key, n, style_dim)),
            "labels": labels,
        }

    def sweeps(params, state, key, n):
        """'digits': row = digit, column = one N(0, I) style shared by the rows."""
        styles = jnp.tile(priors.gaussian(key, n, style_dim), (NUM_CLASSES, 1))
        images = write(params, state, jnp.repeat(jnp.arange(NUM_CLASSES), n), styles)
        return {"digits": images.reshape(NUM_CLASSES, n, *images.shape[1:])}

    def restyle(params, state, images):
        """Each image's style written as every digit: [B, 10, S, S, C]."""
        style = encode(params, state, images)
        b = images.shape[0]
        out = write(params, state, jnp.tile(jnp.arange(NUM_CLASSES), b), jnp.repeat(style, NUM_CLASSES, 0))
        return out.reshape(b, NUM_CLASSES, *out.shape[1:])

    def evaluate(params, state, batch):
        """Classification accuracy / error / cross-entropy of the encoder and the reconstruction errors
        (decoded from the predicted digit)."""
        logits, style, _ = encode_both(params, state, batch["image"], train=False)
        predicted = jnp.argmax(logits, -1)
        recon, _ = decode_logits(params, state, jax.nn.one_hot(predicted, NUM_CLASSES), style, train=False)
        target = pixels.flat(batch["image"])
        correct = (predicted == batch["label"]).astype(jnp.float32)
        return {
            "accuracy": correct,
            "error": 1.0 - correct,
            "cross_entropy": losses.softmax_cross_entropy(logits, batch["label"]),
            "mse": losses.reconstruction_loss(jax.nn.sigmoid(recon), target, "mse"),
            "l1": losses.reconstruction_loss(jax.nn.sigmoid(recon), target, "l1"),
        }

    hooks = {
        "sample": sample,
        "reconstruct": reconstruct,
        "evaluate": evaluate,
        "encode": encode,
        "sweeps": sweeps,
        "restyle": restyle,
        "conditional": True,
        "code_space": "gaussian",
        "prior": lambda key, n: priors.gaussian(key, n, style_dim),
    }
    inputs = {
        "enc": (jax.ShapeDtypeStruct(enc_input(jnp.zeros((1, *image_shape))).shape, jnp.float32),),
        "dec": (jax.ShapeDtypeStruct((1, NUM_CLASSES + style_dim), jnp.float32),),
    }
    return enc, dec, disc_widths, pixels, encode_both, decode_logits, hooks, inputs


def make_style_aae(
    model: ml_collections.ConfigDict, optimizer: optax.GradientTransformation, image_shape
) -> Family:
    """The supervised style AAE: networks enc, dec (and disc unless model.adversarial_weight is 0).

    Updates: disc on (one-hot label, N(0, I) style) vs (one-hot label, encoded style); then enc + dec on
    reconstruction from (one-hot label, style) + label_weight x cross-entropy + adversarial_weight x the
    encoder's adversarial loss.
    """
    enc, dec, disc_widths, pixels, encode_both, decode_logits, hooks, inputs = _style_parts(
        model, image_shape
    )
    adversarial = model.adversarial_weight > 0
    disc = Discriminator(disc_widths)

    def disc_loss(params, state, batch, key):
        """Digit-aware: real (one-hot y, N(0, I)), fake (one-hot y, style(x)), the same labels y [B]."""
        _, style, state = encode_both(params, state, batch["image"], train=True)
        onehot = jax.nn.one_hot(batch["label"], NUM_CLASSES)
        real = jnp.concatenate([onehot, priors.gaussian(key, style.shape[0], style.shape[1])], -1)
        fake = jnp.concatenate([onehot, style], -1)
        loss, accuracy, state = _adversarial_losses(disc, "disc", params, state, real, fake)
        return loss.mean(), ({"loss": loss.mean(), "real_fake_accuracy": accuracy}, state)

    def ae_loss(params, state, batch, key):
        """Reconstruction of batch['image'] [B, S, S, C] from (one-hot batch['label'], style) + weighted
        cross-entropy of the digit logits (+ the adversarial loss of (one-hot label, style))."""
        del key
        logits, style, state = encode_both(params, state, batch["image"], train=True)
        onehot = jax.nn.one_hot(batch["label"], NUM_CLASSES)
        recon_logits, state = decode_logits(params, state, onehot, style, train=True)
        recon = pixels.error(recon_logits, batch["image"]).mean()
        ce = losses.softmax_cross_entropy(logits, batch["label"]).mean()
        accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["label"])
        metrics = {f"recon_{model.recon_loss}": recon, "cross_entropy": ce, "accuracy": accuracy}
        total = recon + model.label_weight * ce
        if adversarial:
            fooling, state = apply_net(
                disc, "disc", params, state, jnp.concatenate([onehot, style], -1), train=True
            )
            metrics["adversarial"] = losses.gan_generator_loss(fooling).mean()
            total = total + model.adversarial_weight * metrics["adversarial"]
        return total, (metrics, state)

    networks, updates = {"enc": enc, "dec": dec}, (Update("ae", ("enc", "dec"), ae_loss),)
    if adversarial:
        networks["disc"] = disc
        inputs = {**inputs, "disc": (jax.ShapeDtypeStruct((1, NUM_CLASSES + model.latent_dim), jnp.float32),)}
        updates = (Update("disc", ("disc",), disc_loss), *updates)
    return Family(
        networks=networks,
        example_inputs=inputs,
        optimizers={name: optimizer for name in networks},
        updates=updates,
        **hooks,
    )


def make_semi_supervised_aae(
    model: ml_collections.ConfigDict, optimizer: optax.GradientTransformation, image_shape
) -> Family:
    """Semi-supervised AAE: networks enc, dec, disc_cat (on q(y | x)), disc_style (on z).

    Updates: both discriminators; then enc + dec on reconstruction from (q(y | x), z) of an unlabelled
    batch + adversarial_weight x (both adversarial losses) + label_weight x the cross-entropy of a labelled
    batch (batch['labelled_image'], batch['labelled_label'], drawn by the trainer from data.num_labels).
    """
    enc, dec, disc_widths, pixels, encode_both, decode_logits, hooks, inputs = _style_parts(
        model, image_shape
    )
    disc_cat, disc_style = Discriminator(disc_widths), Discriminator(disc_widths)

    def disc_loss(params, state, batch, key):
        """Real: one-hot of uniform digits and N(0, I) styles; fake: the encoder's (q(y | x), z)."""
        cat_key, style_key = jax.random.split(key)
        logits, style, state = encode_both(params, state, batch["image"], train=True)
        b = style.shape[0]
        real_cat = jax.nn.one_hot(jax.random.randint(cat_key, (b,), 0, NUM_CLASSES), NUM_CLASSES)
        cat_loss, cat_accuracy, state = _adversarial_losses(
            disc_cat, "disc_cat", params, state, real_cat, jax.nn.softmax(logits)
        )
        real_style = priors.gaussian(style_key, b, style.shape[1])
        style_loss, style_accuracy, state = _adversarial_losses(
            disc_style, "disc_style", params, state, real_style, style
        )
        loss = (cat_loss + style_loss).mean()
        metrics = {"loss": loss, "cat_accuracy": cat_accuracy, "style_accuracy": style_accuracy}
        return loss, (metrics, state)

    def ae_loss(params, state, batch, key):
        """Reconstruction from (q(y | x), z) + adversarial terms on the unlabelled batch [B, S, S, C], plus
        the labelled batch's cross-entropy. The unlabelled batch's 'label' is never read."""
        del key
        logits, style, state = encode_both(params, state, batch["image"], train=True)
        probabilities = jax.nn.softmax(logits)
        recon_logits, state = decode_logits(params, state, probabilities, style, train=True)
        recon = pixels.error(recon_logits, batch["image"]).mean()
        fool_cat, state = apply_net(disc_cat, "disc_cat", params, state, probabilities, train=True)
        fool_style, state = apply_net(disc_style, "disc_style", params, state, style, train=True)
        adversarial = (losses.gan_generator_loss(fool_cat) + losses.gan_generator_loss(fool_style)).mean()
        labelled_logits, _, state = encode_both(params, state, batch["labelled_image"], train=True)
        ce = losses.softmax_cross_entropy(labelled_logits, batch["labelled_label"]).mean()
        metrics = {
            f"recon_{model.recon_loss}": recon,
            "adversarial": adversarial,
            "labelled_cross_entropy": ce,
            "labelled_accuracy": jnp.mean(jnp.argmax(labelled_logits, -1) == batch["labelled_label"]),
        }
        return recon + model.adversarial_weight * adversarial + model.label_weight * ce, (metrics, state)

    code = (jax.ShapeDtypeStruct((1, NUM_CLASSES), jnp.float32),)
    style_code = (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),)
    networks = {"enc": enc, "dec": dec, "disc_cat": disc_cat, "disc_style": disc_style}
    return Family(
        networks=networks,
        example_inputs={**inputs, "disc_cat": code, "disc_style": style_code},
        optimizers={name: optimizer for name in networks},
        updates=(
            Update("disc", ("disc_cat", "disc_style"), disc_loss),
            Update("ae", ("enc", "dec"), ae_loss),
        ),
        semi_supervised=True,
        **hooks,
    )
