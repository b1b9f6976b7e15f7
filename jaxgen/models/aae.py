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

`aae` and `style_aae` take one encoder/decoder update on reconstruction + `model.adversarial_weight` x the
encoder's adversarial loss (+ `model.label_weight` x the cross-entropy), after the discriminators' update.
`ssaae`, and `aae` with `model.phases`, train in the paper's phases instead (reconstruction; regularisation:
discriminators, then the encoder; for `ssaae` semi-supervised classification), each with its own learning
rate and optimizer state.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.models import options, priors
from jaxgen.models.autoencoder import MLPDecoder, MLPEncoder, Pixels, autoencoding, reconstruction_scores
from jaxgen.models.family import Abilities, Family, ModelSpec, Pictures, Prior, Setup, Update, apply_net

NUM_CLASSES = 10
STYLE_CONV_DISC = (64, 8)  # the style repository's discriminator: style -> 64 -> 8 -> 1
torch_default_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")  # PyTorch's Conv2d


class FourierFeatures(nn.Module):
    """Codes [B, D] -> [B, 2 * count]: sin and cos of 2 pi x B, B [D, count] drawn N(0, scale^2) and trained.

    A ReLU MLP fed raw 2-d codes learns smooth functions first (spectral bias), so a thin prior such as the
    swiss roll is a boundary it needs thousands of steps to draw; sinusoids of random frequencies make it
    a few hundred (Tancik et al. 2020, arXiv:2006.10739; experiments/README.md).
    """

    count: int
    scale: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        frequencies = self.param(
            "frequencies", nn.initializers.normal(self.scale), (x.shape[-1], self.count), jnp.float32
        )
        phases = 2.0 * jnp.pi * x @ frequencies
        return jnp.concatenate([jnp.sin(phases), jnp.cos(phases)], -1)


class Discriminator(nn.Module):
    """Codes [B, D] -> logit [B]: Dense + ReLU per width, then a linear unit. With fourier > 0 the codes
    (the columns after the first `passthrough`, which carry a one-hot digit) enter with their
    FourierFeatures beside them."""

    widths: Sequence[int]
    dtype: str = "float32"  # the products' operands (layers.dense)
    fourier: int = 0
    fourier_scale: float = 1.0
    passthrough: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        if self.fourier:
            kept, codes = x[:, : self.passthrough], x[:, self.passthrough :]
            x = jnp.concatenate([kept, codes, FourierFeatures(self.fourier, self.fourier_scale)(codes)], -1)
        for width in self.widths:
            x = nn.relu(layers.dense(width, self.dtype)(x))
        return layers.dense(1, self.dtype)(x)[:, 0]


class ConvStyleEncoder(nn.Module):
    """Images [B, S, S, C] -> [B, outputs]: conv5 s2 (16) and conv3 (32), each GroupNorm + ReLU, a 3x3 s2
    max-pool and a dense layer (the style repository's encoder)."""

    outputs: int
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = torch_default_init
        x = layers.Conv(16, 5, 2, 2, use_bias=False, conv=self.conv, kernel_init=init)(x)
        x = nn.relu(layers.GroupNorm(num_groups=4, epsilon=1e-5)(x))
        x = layers.Conv(32, 3, 1, 1, use_bias=False, conv=self.conv, kernel_init=init)(x)
        x = nn.relu(layers.GroupNorm(num_groups=8, epsilon=1e-5)(x))
        x = layers.max_pool(x, 3, stride=2, padding=1)
        return nn.Dense(self.outputs)(x.reshape(x.shape[0], -1))


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
            up = layers.Conv(width, 3, 1, 1, use_bias=False, conv=self.conv, upsample=True, kernel_init=init)
            x = up(x)  # nearest 2x up-sampling, then the conv
            x = nn.relu(layers.GroupNorm(num_groups=groups, epsilon=1e-5)(x))
        return layers.Conv(self.channels, 3, 1, 1, conv=self.conv, kernel_init=init)(x)


def code_discriminator_loss(disc: nn.Module, name: str, params, state, real: jax.Array, fake: jax.Array):
    """(-log D(real) - log(1 - D(fake)) per example [B] with the fakes detached, D's accuracy on both halves,
    the new state) for codes [B, D]: real are prior draws, fake the encoder's codes."""
    real_logits, state = apply_net(disc, name, params, state, real, train=True)
    fake_logits, state = apply_net(disc, name, params, state, jax.lax.stop_gradient(fake), train=True)
    accuracy = 0.5 * (jnp.mean(real_logits > 0) + jnp.mean(fake_logits < 0))
    return losses.gan_discriminator_loss(real_logits, fake_logits), accuracy, state


def fooling_loss(disc: nn.Module, name: str, params, state, codes: jax.Array):
    """The encoder's adversarial loss -log D(codes), batch mean, and the new state."""
    logits, state = apply_net(disc, name, params, state, codes, train=True)
    return losses.gan_generator_loss(logits).mean(), state


def _phase(setup: Setup, lr_scale: float):
    """The optimizer of one training phase, at optim.lr x lr_scale, with its own state."""
    if setup.scaled_optimizer is None:  # never ignore a phase's rate silently
        raise ValueError("an adversarial autoencoder's phases need Setup.scaled_optimizer")
    return setup.scaled_optimizer(lr_scale)


def _codes(*dims: int) -> tuple[jax.ShapeDtypeStruct, ...]:
    return tuple(jax.ShapeDtypeStruct((1, d), jnp.float32) for d in dims)


# ----------------------------------------------------------------------------------------- the AAE


def make_aae(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """AAE with a chosen prior: networks enc, dec, disc; updates: disc (model.disc_repeats times), then
    enc + dec on reconstruction + model.adversarial_weight x the non-saturating adversarial loss of the
    codes.

    With model.label_prior (paper section 2.3) the discriminator also sees each code's digit as a one-hot
    vector, and its real codes are drawn from that digit's part of the prior, so each digit's codes are
    pushed into their own part (a petal of the mixture, a stretch of the swiss roll).
    """
    pixels = Pixels(setup.image_shape, model.crop, model.recon_loss)
    prior = priors.PRIORS[model.prior]
    dtype = setup.conv.dense_dtype
    enc = MLPEncoder(model.latent_dim, model.hidden, model.depth, dtype=dtype)
    dec = MLPDecoder(pixels.count, model.hidden, model.depth, dtype=dtype)
    label_dims = NUM_CLASSES if model.label_prior else 0
    disc = Discriminator(
        (model.hidden,) * model.depth, dtype, model.disc_fourier, model.disc_fourier_scale, label_dims
    )

    def judged(codes, batch):
        """What the discriminator sees of a batch's codes [B, D]: the codes, after the one-hot of
        batch['label'] with label_prior."""
        if not model.label_prior:
            return codes
        return jnp.concatenate([jax.nn.one_hot(batch["label"], NUM_CLASSES), codes], -1)

    def draw_prior(key, batch, n):
        """n prior codes for a batch: from the part of each batch['label'] with label_prior, else from all
        of the prior."""
        if model.label_prior:
            return priors.PARTS[model.prior](key, batch["label"])
        return prior(key, n, model.latent_dim)

    def encode(params, state, images):
        return apply_net(enc, "enc", params, state, pixels.flat(images), train=False)[0]

    def decode(params, state, codes):
        return pixels.image(apply_net(dec, "dec", params, state, codes, train=False)[0])

    def training_codes(params, state, batch, key):
        """The encoder's codes of batch['image'] in training mode, with N(0, model.input_noise^2) added to
        every pixel (0: the images as they are), and the new state. Evaluation encodes clean images."""
        images = batch["image"]
        if model.input_noise:
            images = images + model.input_noise * jax.random.normal(jax.random.fold_in(key, 1), images.shape)
        return apply_net(enc, "enc", params, state, pixels.flat(images), train=True)

    def reconstruction_error(params, state, codes, batch):
        """Per-pixel reconstruction error of batch['image'] from codes, batch mean, and the new state."""
        logits, state = apply_net(dec, "dec", params, state, codes, train=True)
        return pixels.error(logits, batch["image"]).mean(), state

    def disc_loss(params, state, batch, key):
        """-log D(z_prior) - log(1 - D(enc(x))) for batch['image'] [B, S, S, C]; z_prior [B, latent]."""
        codes, state = training_codes(params, state, batch, key)
        real = judged(draw_prior(key, batch, codes.shape[0]), batch)
        loss, accuracy, state = code_discriminator_loss(
            disc, "disc", params, state, real, judged(codes, batch)
        )
        return loss.mean(), ({"loss": loss.mean(), "real_fake_accuracy": accuracy}, state)

    def ae_loss(params, state, batch, key):
        """Per-pixel reconstruction error + adversarial_weight x -log D(enc(x)), batch mean."""
        codes, state = training_codes(params, state, batch, key)
        recon, state = reconstruction_error(params, state, codes, batch)
        adversarial, state = fooling_loss(disc, "disc", params, state, judged(codes, batch))
        metrics = {f"recon_{model.recon_loss}": recon, "adversarial": adversarial}
        return recon + model.adversarial_weight * adversarial, (metrics, state)

    def recon_loss(params, state, batch, key):
        """The reconstruction phase: per-pixel reconstruction error, batch mean."""
        codes, state = training_codes(params, state, batch, key)
        recon, state = reconstruction_error(params, state, codes, batch)
        return recon, ({f"recon_{model.recon_loss}": recon}, state)

    def gen_loss(params, state, batch, key):
        """The regularisation phase's second half: the encoder fools the discriminator, -log D(enc(x))."""
        codes, state = training_codes(params, state, batch, key)
        adversarial, state = fooling_loss(disc, "disc", params, state, judged(codes, batch))
        return adversarial, ({"adversarial": adversarial}, state)

    def evaluate(params, state, batch):
        logits, _ = apply_net(dec, "dec", params, state, encode(params, state, batch["image"]), train=False)
        return reconstruction_scores(jax.nn.sigmoid(logits), logits, pixels.flat(batch["image"]))

    def sample(params, state, key, n):
        """Decoded prior draws; with label_prior, balanced digits from their parts, and their labels."""
        if not model.label_prior:
            return {"images": decode(params, state, prior(key, n, model.latent_dim))}
        label_key, code_key = jax.random.split(key)
        labels = jax.random.permutation(label_key, jnp.arange(n) % NUM_CLASSES)
        codes = draw_prior(code_key, {"label": labels}, n)
        return {"images": decode(params, state, codes), "labels": labels}

    if model.phases:
        # the encoder has two optimizer states, one per phase: neither phase's rate depends on the other's
        adversarial = _phase(setup, model.adversarial_lr_scale)
        updates = (
            Update("recon", ("enc", "dec"), recon_loss, optimizer=_phase(setup, 1.0)),
            Update("disc", ("disc",), disc_loss, repeat=model.disc_repeats, optimizer=adversarial),
            Update("gen", ("enc",), gen_loss, optimizer=adversarial),
        )
    else:
        disc_update = Update("disc", ("disc",), disc_loss, repeat=model.disc_repeats)
        updates = (disc_update, Update("ae", ("enc", "dec"), ae_loss))
    return Family(
        networks={"enc": enc, "dec": dec, "disc": disc},
        example_inputs={
            "enc": _codes(pixels.count),
            "dec": _codes(model.latent_dim),
            "disc": _codes(label_dims + model.latent_dim),
        },
        optimizers={"enc": setup.optimizer, "dec": setup.optimizer, "disc": setup.optimizer},
        updates=updates,
        can=autoencoding(
            encode,
            decode,
            sample,
            evaluate,
            "gaussian" if model.prior == "gaussian" else "data",
            prior=Prior(
                model.prior,
                lambda key, n: prior(key, n, model.latent_dim),
                priors.PARTS[model.prior] if model.label_prior else None,
            ),
        ),
    )


# ----------------------------------------------------------------------------------------- digit + style


class StyleCoder:
    """The networks and pictures both (digit, style) families share: an encoder to (digit logits, style),
    a decoder from (digit one-hot or probabilities, style), for model.arch 'conv' (the style repository's
    GroupNorm networks) or 'mlp' (the paper's: model.depth x model.hidden)."""

    def __init__(self, model: ml_collections.ConfigDict, setup: Setup):
        size, _, channels = setup.image_shape
        self.style_dim = model.latent_dim
        self.pixels = Pixels(setup.image_shape, model.crop, model.recon_loss)
        outputs = NUM_CLASSES + model.latent_dim
        self.dtype = setup.conv.dense_dtype  # the dense products' operands (layers.dense)
        self.conv_decoder = model.arch == "conv"
        if model.arch == "conv":
            self.enc, self.dec = (
                ConvStyleEncoder(outputs, setup.conv),
                ConvStyleDecoder(size, channels, setup.conv),
            )
            self.enc_input, self.disc_widths = (lambda images: images), STYLE_CONV_DISC
        elif model.arch == "mlp":
            self.enc = MLPEncoder(outputs, model.hidden, model.depth, dtype=self.dtype)
            self.dec = MLPDecoder(self.pixels.count, model.hidden, model.depth, dtype=self.dtype)
            self.enc_input, self.disc_widths = self.pixels.flat, (model.hidden,) * model.depth
        else:
            raise ValueError(f"model.arch={model.arch!r}: the style models are 'conv' or 'mlp'")
        enc_shape = self.enc_input(jnp.zeros((1, *setup.image_shape))).shape
        self.example_inputs = {
            "enc": (jax.ShapeDtypeStruct(enc_shape, jnp.float32),),
            "dec": _codes(NUM_CLASSES + model.latent_dim),
        }

    def encode_both(self, params, state, images, train):
        """(digit logits [B, 10], style [B, latent_dim], new state) of images [B, S, S, C] in [0, 1]."""
        out, state = apply_net(self.enc, "enc", params, state, self.enc_input(images), train=train)
        return out[:, :NUM_CLASSES], out[:, NUM_CLASSES:], state

    def decode_logits(self, params, state, digit, style, train):
        """Decoder logits over the modelled pixels [B, D] for digit probabilities / one-hots [B, 10]."""
        code = jnp.concatenate([digit, style], -1)
        out, state = apply_net(self.dec, "dec", params, state, code, train=train)
        return (self.pixels.flat(out) if self.conv_decoder else out), state

    def write(self, params, state, digits, style):
        """Images [B, S, S, C] of digits [B] (int) in styles [B, latent_dim]."""
        onehot = jax.nn.one_hot(digits, NUM_CLASSES)
        return self.pixels.image(self.decode_logits(params, state, onehot, style, train=False)[0])

    def abilities(self) -> Abilities:
        """Sample (balanced digits in N(0, I) styles), reconstruct, classify, encode (the style) and the
        test reconstruction errors (decoded from the predicted digit)."""

        def encode(params, state, images):
            return self.encode_both(params, state, images, train=False)[1]

        def classify(params, state, images):
            return self.encode_both(params, state, images, train=False)[0]

        def reconstruct(params, state, images):
            logits, style, _ = self.encode_both(params, state, images, train=False)
            return self.write(params, state, jnp.argmax(logits, -1), style)

        def sample(params, state, key, n):
            label_key, style_key = jax.random.split(key)
            labels = jax.random.permutation(label_key, jnp.arange(n) % NUM_CLASSES)
            styles = priors.gaussian(style_key, n, self.style_dim)
            return {"images": self.write(params, state, labels, styles), "labels": labels}

        def evaluate(params, state, batch):
            logits, style, _ = self.encode_both(params, state, batch["image"], train=False)
            onehot = jax.nn.one_hot(jnp.argmax(logits, -1), NUM_CLASSES)
            recon = jax.nn.sigmoid(self.decode_logits(params, state, onehot, style, train=False)[0])
            target = self.pixels.flat(batch["image"])
            return {name: losses.reconstruction_loss(recon, target, name) for name in ("mse", "l1")}

        return Abilities(
            sample=sample,
            reconstruct=reconstruct,
            evaluate=evaluate,
            encode=encode,
            classify=classify,
            code_space="gaussian",
            prior=Prior("gaussian", lambda key, n: priors.gaussian(key, n, self.style_dim)),
        )

    def pictures(self) -> Pictures:
        """The digit sweep and the style-transfer table."""

        def sweeps(params, state, key, n):
            """'digits': row = digit, column = one N(0, I) style shared by the rows."""
            styles = jnp.tile(priors.gaussian(key, n, self.style_dim), (NUM_CLASSES, 1))
            images = self.write(params, state, jnp.repeat(jnp.arange(NUM_CLASSES), n), styles)
            return {"digits": images.reshape(NUM_CLASSES, n, *images.shape[1:])}

        def restyle(params, state, images):
            """Each image's style written as every digit: [B, 10, S, S, C]."""
            style = self.encode_both(params, state, images, train=False)[1]
            b = images.shape[0]
            digits = jnp.tile(jnp.arange(NUM_CLASSES), b)
            out = self.write(params, state, digits, jnp.repeat(style, NUM_CLASSES, 0))
            return out.reshape(b, NUM_CLASSES, *out.shape[1:])

        return Pictures(sweeps=sweeps, restyle=restyle)


def make_style_aae(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """The supervised style AAE: networks enc, dec (and disc unless model.adversarial_weight is 0).

    Updates: disc on (one-hot label, N(0, I) style) vs (one-hot label, encoded style); then enc + dec on
    reconstruction from (one-hot label, style) + label_weight x cross-entropy + adversarial_weight x the
    encoder's adversarial loss.
    """
    coder = StyleCoder(model, setup)
    adversarial = model.adversarial_weight > 0
    disc = Discriminator(coder.disc_widths, coder.dtype)

    def disc_loss(params, state, batch, key):
        """Digit-aware: real (one-hot y, N(0, I)), fake (one-hot y, style(x)), the same labels y [B]."""
        _, style, state = coder.encode_both(params, state, batch["image"], train=True)
        onehot = jax.nn.one_hot(batch["label"], NUM_CLASSES)
        real = jnp.concatenate([onehot, priors.gaussian(key, style.shape[0], style.shape[1])], -1)
        fake = jnp.concatenate([onehot, style], -1)
        loss, accuracy, state = code_discriminator_loss(disc, "disc", params, state, real, fake)
        return loss.mean(), ({"loss": loss.mean(), "real_fake_accuracy": accuracy}, state)

    def ae_loss(params, state, batch, key):
        """Reconstruction of batch['image'] [B, S, S, C] from (one-hot batch['label'], style) + weighted
        cross-entropy of the digit logits (+ the adversarial loss of (one-hot label, style))."""
        del key
        logits, style, state = coder.encode_both(params, state, batch["image"], train=True)
        onehot = jax.nn.one_hot(batch["label"], NUM_CLASSES)
        recon_logits, state = coder.decode_logits(params, state, onehot, style, train=True)
        recon = coder.pixels.error(recon_logits, batch["image"]).mean()
        ce = losses.softmax_cross_entropy(logits, batch["label"]).mean()
        accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["label"])
        metrics = {f"recon_{model.recon_loss}": recon, "cross_entropy": ce, "accuracy": accuracy}
        total = recon + model.label_weight * ce
        if adversarial:
            code = jnp.concatenate([onehot, style], -1)
            metrics["adversarial"], state = fooling_loss(disc, "disc", params, state, code)
            total = total + model.adversarial_weight * metrics["adversarial"]
        return total, (metrics, state)

    networks, inputs = {"enc": coder.enc, "dec": coder.dec}, coder.example_inputs
    updates = (Update("ae", ("enc", "dec"), ae_loss),)
    if adversarial:
        networks["disc"] = disc
        inputs = {**inputs, "disc": _codes(NUM_CLASSES + model.latent_dim)}
        updates = (Update("disc", ("disc",), disc_loss), *updates)
    return Family(
        networks=networks,
        example_inputs=inputs,
        optimizers={name: setup.optimizer for name in networks},
        updates=updates,
        can=coder.abilities(),
        pictures=coder.pictures(),
    )


def make_semi_supervised_aae(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Semi-supervised AAE: networks enc, dec, disc_cat (on q(y | x)), disc_style (on z).

    The paper's three phases per step, each its own update with its own optimizer state and learning rate
    (optim.lr x model.<phase>_lr_scale): reconstruction (enc + dec) of an unlabelled batch from
    (q(y | x), z); regularisation: both discriminators, then the encoder fooling them; semi-supervised
    classification: the encoder's cross-entropy on a labelled batch (batch['labelled_image'],
    batch['labelled_label'], drawn by the trainer from data.num_labels).
    """
    coder = StyleCoder(model, setup)
    disc_cat, disc_style = (
        Discriminator(coder.disc_widths, coder.dtype),
        Discriminator(coder.disc_widths, coder.dtype),
    )

    def encode_noisy(params, state, images, key):
        """The training encoder's (digit logits, style, state) of images with N(0, model.input_noise^2)
        added to every pixel (0: the images as they are); evaluation always encodes clean images."""
        if model.input_noise:
            images = images + model.input_noise * jax.random.normal(key, images.shape)
        return coder.encode_both(params, state, images, train=True)

    def disc_loss(params, state, batch, key):
        """Real: one-hot of uniform digits and N(0, I) styles; fake: the encoder's (q(y | x), z)."""
        cat_key, style_key = jax.random.split(key)
        logits, style, state = encode_noisy(params, state, batch["image"], jax.random.fold_in(key, 1))
        b = style.shape[0]
        real_cat = jax.nn.one_hot(jax.random.randint(cat_key, (b,), 0, NUM_CLASSES), NUM_CLASSES)
        cat_loss, cat_accuracy, state = code_discriminator_loss(
            disc_cat, "disc_cat", params, state, real_cat, jax.nn.softmax(logits)
        )
        real_style = priors.gaussian(style_key, b, style.shape[1])
        style_loss, style_accuracy, state = code_discriminator_loss(
            disc_style, "disc_style", params, state, real_style, style
        )
        loss = (cat_loss + style_loss).mean()
        metrics = {"loss": loss, "cat_accuracy": cat_accuracy, "style_accuracy": style_accuracy}
        return loss, (metrics, state)

    def recon_loss(params, state, batch, key):
        """Reconstruction of the unlabelled batch [B, S, S, C] from (q(y | x), z); its labels are not read."""
        logits, style, state = encode_noisy(params, state, batch["image"], key)
        recon_logits, state = coder.decode_logits(params, state, jax.nn.softmax(logits), style, train=True)
        recon = coder.pixels.error(recon_logits, batch["image"]).mean()
        return recon, ({f"recon_{model.recon_loss}": recon}, state)

    def gen_loss(params, state, batch, key):
        """The encoder fools both discriminators with (q(y | x), z) of the unlabelled batch."""
        logits, style, state = encode_noisy(params, state, batch["image"], key)
        fool_cat, state = apply_net(disc_cat, "disc_cat", params, state, jax.nn.softmax(logits), train=True)
        fool_style, state = apply_net(disc_style, "disc_style", params, state, style, train=True)
        cat = losses.gan_generator_loss(fool_cat).mean()
        style_term = losses.gan_generator_loss(fool_style).mean()
        return cat + style_term, ({"fool_cat": cat, "fool_style": style_term}, state)

    def label_loss(params, state, batch, key):
        """Cross-entropy of q(y | x) on the labelled batch."""
        logits, _, state = encode_noisy(params, state, batch["labelled_image"], key)
        ce = losses.softmax_cross_entropy(logits, batch["labelled_label"]).mean()
        accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["labelled_label"])
        return ce, ({"labelled_accuracy": accuracy}, state)

    networks = {"enc": coder.enc, "dec": coder.dec, "disc_cat": disc_cat, "disc_style": disc_style}
    adversarial = _phase(setup, model.adversarial_lr_scale)
    return Family(
        networks=networks,
        example_inputs={
            **coder.example_inputs,
            "disc_cat": _codes(NUM_CLASSES),
            "disc_style": _codes(model.latent_dim),
        },
        optimizers={},  # every phase has its own
        updates=(
            Update("recon", ("enc", "dec"), recon_loss, optimizer=_phase(setup, model.recon_lr_scale)),
            Update("disc", ("disc_cat", "disc_style"), disc_loss, optimizer=adversarial),
            Update("gen", ("enc",), gen_loss, optimizer=adversarial),
            Update("label", ("enc",), label_loss, optimizer=_phase(setup, model.label_lr_scale)),
        ),
        data="labelled_subset",
        can=coder.abilities(),
        pictures=coder.pictures(),
    )


# ----------------------------------------------------------------------------------------- options


def _options(latent_dim: int, hidden: int, depth: int, recon_loss: str, adversarial_weight: float):
    o = ml_collections.ConfigDict()
    o.latent_dim = latent_dim  # code size (the style's, beside the digit, for the style models)
    options.mlp_net(o, hidden, depth)
    o.recon_loss = recon_loss  # mse | bce | l1 per pixel (bce on the decoder's logits)
    o.adversarial_weight = (
        adversarial_weight  # weight of the encoder's adversarial loss (0: no discriminator)
    )
    return o


def aae_options() -> ml_collections.ConfigDict:
    # adversarial weight 0.05 against the per-pixel loss: at 1 the 2-D codes collapsed onto a line
    o = _options(2, 1000, 2, "bce", 0.05)
    o.prior = "gaussian"  # the code prior: gaussian | mixture | triangle | donut | swiss_roll (priors.py)
    # paper section 2.3: the discriminator sees each code's digit, whose codes must fill the digit's own part
    # of the prior (mixture or swiss_roll)
    o.label_prior = False
    # the paper's training: a reconstruction phase, then the regularisation phase (the discriminator, then
    # the encoder fooling it), each update with its own optimizer state; False: one update of
    # reconstruction + adversarial_weight x the adversarial loss (which phases ignore)
    o.phases = False
    o.adversarial_lr_scale = 1.0  # with phases: the regularisation phase's rate is optim.lr x this
    o.disc_repeats = 1  # discriminator updates per step, before the encoder's
    # the discriminator also reads this many random sinusoids of the codes (sin and cos of each; 0: the raw
    # codes alone, the paper's), frequencies N(0, disc_fourier_scale^2) per unit of code: it finds a thin
    # prior sooner, and every prior was fit worse with it (experiments/README.md)
    o.disc_fourier = 0
    o.disc_fourier_scale = 1.0
    # std of the Gaussian noise added to the encoder's input pixels ([0, 1]) in training (0: none), as the
    # semi-supervised AAE's model.input_noise; the reconstruction target stays the clean image
    o.input_noise = 0.0
    return o


def style_options() -> ml_collections.ConfigDict:
    o = _options(4, 400, 1, "l1", 0.1)
    o.arch = "conv"  # conv (the style repository's GroupNorm networks) | mlp (model.depth x model.hidden)
    o.label_weight = 1.0  # weight of the digit cross-entropy
    return o


def ssaae_options() -> ml_collections.ConfigDict:
    o = ml_collections.ConfigDict()
    o.latent_dim = 10  # size of the style z beside q(y | x)
    options.mlp_net(o, 1000, 2)
    o.arch = "mlp"  # mlp (the paper's 784-1000-1000 networks) | conv (the style repository's)
    o.recon_loss = "bce"  # mse | bce | l1 per pixel (bce on the decoder's logits)
    # learning rate of each phase: optim.lr x its scale, each with its own optimizer state
    o.recon_lr_scale = 5.0  # reconstruction phase (encoder and decoder); 1: 10.5% error, 5: 6.9% (6000 steps)
    o.adversarial_lr_scale = 1.0  # regularisation phase (both discriminators, then the encoder)
    o.label_lr_scale = 1.0  # semi-supervised classification phase (the encoder on labelled batches)
    # std of the Gaussian noise added to the encoder's input pixels ([0, 1]) in every training phase (0:
    # none); it slows the memorising of the labelled images: 100 labels, seed 0, 6000 steps: 5.25% error
    # against 6.91% without, and still falling at 30,000 steps (experiments/README.md)
    o.input_noise = 0.3
    return o


def _prior_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    return options.first_problem(
        priors.prior_problem(model.prior, model.latent_dim, model.label_prior),
        options.crop_problem(model, data),
    )


POSITIVE = ("latent_dim", *options.MLP_POSITIVE)
RULES = {"positive": POSITIVE, "check": options.crop_problem}
STYLE_CHOICES = {"arch": ("conv", "mlp"), "recon_loss": losses.RECONSTRUCTION_LOSSES}
STYLE_SETTINGS = {
    "optim.lr": 4e-4,  # AdamW 4e-4, weight decay 0.01: the style repository's
    "optim.b1": 0.9,
    "optim.weight_decay": 0.01,
    "train.num_steps": 11244,  # 12 epochs
    "train.eval_every": 937,
    "train.checkpoint_every": 937,
}
MODELS = {
    "aae": ModelSpec(
        make_aae,
        aae_options,
        {
            "train.batch_size": 100,
            "train.num_steps": 12000,
            "train.eval_every": 3000,
            "train.checkpoint_every": 3000,
        },
        choices={"recon_loss": losses.RECONSTRUCTION_LOSSES, "prior": tuple(priors.PRIORS)},
        positive=(*POSITIVE, "adversarial_lr_scale", "disc_repeats", "disc_fourier_scale"),
        non_negative=("adversarial_weight", "input_noise", "disc_fourier"),
        check=_prior_problem,
    ),
    "style_aae": ModelSpec(
        make_style_aae,
        style_options,
        STYLE_SETTINGS,
        STYLE_CHOICES,
        non_negative=("adversarial_weight", "label_weight"),
        **RULES,
    ),
    "ssaae": ModelSpec(
        make_semi_supervised_aae,
        ssaae_options,
        {
            "train.batch_size": 100,
            "train.num_steps": 30000,
            "train.eval_every": 3000,
            "train.checkpoint_every": 3000,
            "data.num_labels": 100,
        },
        STYLE_CHOICES,
        positive=(*POSITIVE, "recon_lr_scale", "adversarial_lr_scale", "label_lr_scale"),
        non_negative=("input_noise",),
        check=options.crop_problem,
    ),
}
