"""Autoencoders of the seeds: one family, the network shape and the regulariser chosen by config fields.

`model.arch` picks the encoder/decoder pair:
- 'conv': the DCGAN down stack + dense code, the DCGAN up stack back (the seeds' vanilla conv AE);
- 'mlp': MLP on the 784 pixels of the digit (`model.crop`, `model.hidden`, `model.depth`);
- 'fully_conv': no dense layer at all; the code is a (S/8)x(S/8) map with latent_dim / (S/8)^2 channels;
- 'conv_linear': two plain convs, a linear n-d bottleneck (no activation) and back (n = latent_dim);
- 'linear': 784 -> latent -> 784 dense layers with no bias and no activation; its W2.W1 is drawn by viz.

Regularisers: sigmoid-bounded codes (`model.code_activation`), L2 / L1 code penalties (`model.code_l2`;
`model.code_l1`: the sparse AE), masking noise with a clean target (`model.input_dropout`: the denoising
AE, Vincent et al. 2008), and the contractive penalty (`model.contractive`: Rifai et al. 2011, "Contractive
Auto-Encoders", ICML) - the squared Frobenius norm of the encoder's Jacobian, computed exactly by autodiff.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.models import options
from jaxgen.models.family import Abilities, Family, ModelSpec, Pictures, Setup, Update, apply_net

# Architectures without BatchNorm: one image's code depends on that image only, so the per-example
# encoder Jacobian of the contractive penalty is defined.
PER_EXAMPLE_ARCHS = ("mlp", "conv_linear", "linear")
TEST_NOISE_SEED = 0  # the denoising AE's test masks: fold_in(key(TEST_NOISE_SEED), image index)
MEAN_PIXEL_LOGIT = -1.9  # logit(0.13): MNIST's mean pixel intensity inside the 28x28 digit box


def _bound(codes: jax.Array, code_activation: str) -> jax.Array:
    return jax.nn.sigmoid(codes) if code_activation == "sigmoid" else codes


class ConvEncoder(nn.Module):
    """[B, S, S, C] -> codes [B, latent_dim] (DCGAN down stack + dense)."""

    latent_dim: int
    widths: Sequence[int]
    conv: layers.ConvOptions = layers.ConvOptions()
    code_activation: str = "none"  # none | sigmoid (codes in (0, 1))

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        codes = nn.Dense(self.latent_dim)(layers.DownStack(self.widths, conv=self.conv)(x, train))
        return _bound(codes, self.code_activation)


class ConvDecoder(nn.Module):
    """codes [B, latent_dim] -> pre-activation images [B, S, S, C] (DCGAN up stack)."""

    widths: Sequence[int]
    out_channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        return layers.UpStack(self.widths, self.out_channels, conv=self.conv)(z, train)


class MLPEncoder(nn.Module):
    """Flat pixels [B, D] -> codes [B, latent_dim]; depth 0 and no bias = the linear AE's W1."""

    latent_dim: int
    hidden: int
    depth: int
    use_bias: bool = True
    code_activation: str = "none"
    dtype: str = "float32"  # the products' operands (layers.dense)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        for _ in range(self.depth):
            x = nn.relu(layers.dense(self.hidden, self.dtype)(x))
        return _bound(
            layers.dense(self.latent_dim, self.dtype, use_bias=self.use_bias)(x), self.code_activation
        )


class MLPDecoder(nn.Module):
    """Codes [B, latent_dim] -> flat pre-activation pixels [B, D].

    The output bias starts at the logit of MNIST's mean pixel, not at 0 (grey): otherwise the first
    steps push every code the same way to darken the output, and Adam, moving all of a code unit's
    weights by the same step, saturates sigmoid-bounded codes at 1 within ~150 steps, where they have no
    gradient and the AE stays at the mean image (measured; experiments/README.md).
    """

    pixels: int
    hidden: int
    depth: int
    use_bias: bool = True
    dtype: str = "float32"  # the products' operands (layers.dense)

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        for _ in range(self.depth):
            z = nn.relu(layers.dense(self.hidden, self.dtype)(z))
        dark = nn.initializers.constant(MEAN_PIXEL_LOGIT)
        return layers.dense(self.pixels, self.dtype, use_bias=self.use_bias, bias_init=dark)(z)


class FullyConvEncoder(nn.Module):
    """[B, S, S, C] -> code map [B, S/8, S/8, code_channels] flattened: convs only, no dense layer."""

    code_channels: int
    widths: Sequence[int]
    conv: layers.ConvOptions = layers.ConvOptions()
    code_activation: str = "none"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        for i, width in enumerate(self.widths):
            x = layers.Conv(width, use_bias=i == 0, conv=self.conv)(x)
            x = nn.leaky_relu(x if i == 0 else layers.batch_norm(train)(x), 0.2)
        codes = layers.Conv(self.code_channels, kernel_size=1, stride=1, padding=0, conv=self.conv)(x)
        return _bound(codes.reshape(x.shape[0], -1), self.code_activation)


class FullyConvDecoder(nn.Module):
    """Flat code map [B, (S/8)^2 c] -> pre-activation images [B, S, S, C]: a 3x3 conv, then up-convs."""

    map_size: int
    widths: Sequence[int]  # one per transposed conv before the output layer, e.g. (4w, 2w, w)
    out_channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        x = z.reshape(z.shape[0], self.map_size, self.map_size, -1)
        x = layers.Conv(self.widths[0], kernel_size=3, stride=1, padding=1, use_bias=False, conv=self.conv)(x)
        x = nn.relu(layers.batch_norm(train)(x))
        for width in self.widths[1:]:
            x = layers.Conv(width, transpose=True, use_bias=False, conv=self.conv)(x)
            x = nn.relu(layers.batch_norm(train)(x))
        return layers.Conv(self.out_channels, transpose=True, conv=self.conv)(x)


class ConvLinearEncoder(nn.Module):
    """[B, S, S, C] -> two k4 s2 convs (ReLU, no BatchNorm) -> linear codes [B, latent_dim]."""

    latent_dim: int
    widths: Sequence[int]
    conv: layers.ConvOptions = layers.ConvOptions()
    code_activation: str = "none"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        for width in self.widths:
            x = nn.relu(layers.Conv(width, conv=self.conv)(x))
        return _bound(nn.Dense(self.latent_dim)(x.reshape(x.shape[0], -1)), self.code_activation)


class ConvLinearDecoder(nn.Module):
    """Codes [B, latent_dim] -> dense to a (S/4)x(S/4) map -> two k4 s2 transposed convs -> [B, S, S, C]."""

    map_size: int
    widths: Sequence[int]  # (2w, w): channels of the map, then of the middle layer
    out_channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        x = nn.relu(nn.Dense(self.map_size**2 * self.widths[0])(z))
        x = x.reshape(z.shape[0], self.map_size, self.map_size, self.widths[0])
        x = nn.relu(layers.Conv(self.widths[1], transpose=True, conv=self.conv)(x))
        return layers.Conv(self.out_channels, transpose=True, conv=self.conv)(x)


class Pixels:
    """The modelled pixels: those inside a `crop` border of [B, S, S, C] images, flattened to [B, D].

    A decoder's outputs over them are logits (pixels through a sigmoid), or the pixels themselves for a
    `linear` decoder; `kind` is the reconstruction error (mse | bce | l1; bce is taken on the logits).
    """

    def __init__(self, image_shape, crop: int, kind: str, linear: bool = False):
        self.size, _, self.channels = image_shape
        self.crop, self.kind, self.linear = crop, kind, linear
        self.count = (self.size - 2 * crop) ** 2 * self.channels

    def flat(self, images: jax.Array) -> jax.Array:
        return layers.crop_flat(images, self.crop)

    def values(self, out: jax.Array) -> jax.Array:
        """Decoder outputs [B, D] -> pixel values."""
        return out if self.linear else jax.nn.sigmoid(out)

    def error(self, out: jax.Array, images: jax.Array) -> jax.Array:
        """Per-example reconstruction error [B] of decoder outputs [B, D] against images [B, S, S, C]."""
        return losses.reconstruction_loss(
            out if self.kind == "bce" else self.values(out), self.flat(images), self.kind
        )

    def image(self, out: jax.Array) -> jax.Array:
        """Decoder outputs [B, D] -> images [B, S, S, C] in [0, 1] with a zero border."""
        return layers.uncrop_flat(jnp.clip(self.values(out), 0.0, 1.0), self.crop, self.size, self.channels)


def reconstruction_scores(pixels: jax.Array, logits: jax.Array, target: jax.Array) -> dict[str, jax.Array]:
    """Per-example test MSE of pixels and BCE of logits [B, D] against target pixels [B, D]."""
    return {
        "mse": losses.reconstruction_loss(pixels, target, "mse"),
        "bce": losses.reconstruction_loss(logits, target, "bce"),
    }


def autoencoding(encode, decode, sample, evaluate, code_space: str, **more) -> Abilities:
    """What a model that encodes and decodes can do; its reconstruction is decode(encode(x))."""

    def reconstruct(params, state, images):
        return decode(params, state, encode(params, state, images))

    return Abilities(
        sample=sample,
        reconstruct=reconstruct,
        evaluate=evaluate,
        encode=encode,
        decode=decode,
        code_space=code_space,
        **more,
    )


def networks(model: ml_collections.ConfigDict, setup: Setup) -> tuple[nn.Module, nn.Module, bool]:
    """(encoder, decoder, flat): flat networks read and write the cropped pixels [B, D], others images."""
    size, _, channels = setup.image_shape
    conv = setup.conv
    pixels = (size - 2 * model.crop) ** 2 * channels
    w, act = model.width, model.code_activation
    if model.arch == "conv":
        return (
            ConvEncoder(model.latent_dim, layers.down_widths(w), conv, act),
            ConvDecoder(layers.up_widths(w, size), channels, conv=conv),
            False,
        )
    if model.arch in ("mlp", "linear"):
        depth, bias = (model.depth, True) if model.arch == "mlp" else (0, False)
        return (
            MLPEncoder(model.latent_dim, model.hidden, depth, bias, act, conv.dense_dtype),
            MLPDecoder(pixels, model.hidden, depth, bias, conv.dense_dtype),
            True,
        )
    if model.arch == "fully_conv":
        map_size = size // 8
        return (
            FullyConvEncoder(model.latent_dim // map_size**2, (w, 2 * w, 4 * w), conv, act),
            FullyConvDecoder(map_size, (4 * w, 2 * w, w), channels, conv),
            False,
        )
    if model.arch == "conv_linear":
        return (
            ConvLinearEncoder(model.latent_dim, (w, 2 * w), conv, act),
            ConvLinearDecoder(size // 4, (2 * w, w), channels, conv),
            False,
        )
    raise ValueError(f"unknown autoencoder model.arch={model.arch!r}")


def config_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    """Why these fields cannot build an autoencoder (a message naming the fields), or None."""
    if model.arch == "linear" and model.recon_loss != "mse":
        return "model.arch='linear' has no output activation: use model.recon_loss='mse'"
    if model.contractive and model.arch not in PER_EXAMPLE_ARCHS:
        return (
            f"model.contractive needs an encoder without BatchNorm (model.arch in {PER_EXAMPLE_ARCHS}), "
            f"not {model.arch!r}: with BatchNorm an image's code depends on the rest of its batch"
        )
    map_size = data.image_size // 8
    if model.arch == "fully_conv" and (data.image_size % 8 or model.latent_dim % map_size**2):
        return (
            f"model.arch='fully_conv' codes are a {map_size}x{map_size} map: model.latent_dim="
            f"{model.latent_dim} must be a multiple of {map_size**2} (and the image size of 8)"
        )
    if not 0.0 <= model.input_dropout < 1.0:
        return f"model.input_dropout={model.input_dropout} must be in [0, 1)"
    return options.crop_problem(model, data)


def contractive_penalty(encode_one, inputs: jax.Array) -> jax.Array:
    """||J(x)||_F^2 per example [B]: J = d codes / d input of `encode_one` (one input -> [latent]).

    Reverse mode, one vector-Jacobian product per code unit. Not the gradient of the summed code, which
    measures ||1^T J||^2 and lets the code units' sensitivities cancel.
    """
    jacobians = jax.vmap(jax.jacrev(encode_one))(inputs)  # [B, latent, *input_shape]
    return jnp.sum(jnp.square(jacobians.reshape(inputs.shape[0], -1)), axis=1)


def code_penalties(model: ml_collections.ConfigDict, codes: jax.Array, jacobian_norm=None) -> dict:
    """The weighted regularisers' batch means: {name: (weight, value)} for the L2 / L1 code penalties and,
    given `jacobian_norm()` (the per-example contractive term), the contractive penalty."""
    terms = {}
    if model.code_l2:
        terms["code_l2"] = (model.code_l2, losses.l2_code_penalty(codes).mean())
    if model.code_l1:
        terms["code_l1"] = (model.code_l1, losses.l1_code_penalty(codes).mean())
    if model.contractive:
        terms["jacobian_frobenius2"] = (model.contractive, jacobian_norm().mean())
    return terms


def make(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Autoencoder family: networks 'enc' and 'dec', one reconstruction update over both."""
    enc, dec, flat_io = networks(model, setup)
    pixels = Pixels(setup.image_shape, model.crop, model.recon_loss, linear=model.arch == "linear")

    def enc_input(images):
        return pixels.flat(images) if flat_io else images

    def decode_outputs(params, state, codes, train):
        """Decoder outputs over the modelled pixels [B, D]."""
        out, state = apply_net(dec, "dec", params, state, codes, train=train)
        return (out if flat_io else pixels.flat(out)), state

    def loss(params, state, batch, key):
        """Per-pixel reconstruction error of the clean batch['image'] [B, S, S, C] from a possibly masked
        input, plus the weighted code penalties (L2, L1, contractive)."""
        clean = batch["image"]
        inputs = enc_input(corrupt(key, clean) if model.input_dropout else clean)
        codes, state = apply_net(enc, "enc", params, state, inputs, train=True)
        out, state = decode_outputs(params, state, codes, train=True)
        err = pixels.error(out, clean).mean()

        def jacobian_norm():
            def encode_one(x):
                return apply_net(enc, "enc", params, state, x[None], train=False)[0][0]

            return contractive_penalty(encode_one, inputs)

        total, metrics = err, {f"recon_{model.recon_loss}": err}
        for name, (weight, value) in code_penalties(model, codes, jacobian_norm).items():
            total, metrics[name] = total + weight * value, value
        return total, (metrics, state)

    def decode_images(params, state, z):
        return pixels.image(decode_outputs(params, state, z, train=False)[0])

    def encode(params, state, images):
        return apply_net(enc, "enc", params, state, enc_input(images), train=False)[0]

    def sample(params, state, key, n):
        # A plain AE has no prior; decoding N(0, I) codes is the seeds' "random samples" picture.
        return {"images": decode_images(params, state, jax.random.normal(key, (n, model.latent_dim)))}

    def evaluate(params, state, batch):
        out, _ = decode_outputs(params, state, encode(params, state, batch["image"]), train=False)
        values = jnp.clip(pixels.values(out), 0.0, 1.0)
        # BCE needs logits: a bce decoder gives them; a sigmoid (or linear) decoder's pixels are mapped back.
        logits = (
            out if model.recon_loss == "bce" else jax.scipy.special.logit(jnp.clip(values, 1e-6, 1 - 1e-6))
        )
        scores = reconstruction_scores(values, logits, pixels.flat(batch["image"]))
        if model.input_dropout:
            # the denoising task itself: corrupted test images (one mask per image index) -> clean ones
            keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(TEST_NOISE_SEED), i))(batch["index"])
            masked = jax.vmap(lambda k, x: corrupt(k, x[None])[0])(keys, batch["image"])
            restored = pixels.flat(decode_images(params, state, encode(params, state, masked)))
            scores["denoise_mse"] = losses.reconstruction_loss(restored, pixels.flat(batch["image"]), "mse")
        return scores

    def corrupt(key, images):
        return losses.pixel_dropout(key, images, model.input_dropout)

    def end_to_end_matrix(params):
        # x_hat = x W_enc W_dec (row vectors); in the column convention of the seed, W2 . W1 = (W_enc W_dec)^T
        product = params["enc"]["Dense_0"]["kernel"] @ params["dec"]["Dense_0"]["kernel"]
        return {"W2·W1": product.T}

    code_space = "unit_box" if model.code_activation == "sigmoid" else "data"
    return Family(
        networks={"enc": enc, "dec": dec},
        example_inputs={
            "enc": (jax.ShapeDtypeStruct(enc_input(jnp.zeros((1, *setup.image_shape))).shape, jnp.float32),),
            "dec": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={"enc": setup.optimizer, "dec": setup.optimizer},
        updates=(Update("ae", ("enc", "dec"), loss),),
        can=autoencoding(encode, decode_images, sample, evaluate, code_space),
        pictures=Pictures(
            corrupt=corrupt if model.input_dropout else None,
            matrices=end_to_end_matrix if model.arch == "linear" else None,
        ),
    )


def ae_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, 100)
    o.arch = "conv"  # conv | mlp | fully_conv | conv_linear | linear (the module docstring)
    options.mlp_net(o, hidden=512, depth=2)
    o.recon_loss = "mse"  # mse | bce | l1 per pixel (bce on the decoder's logits)
    o.code_activation = "none"  # none | sigmoid: codes bounded to (0, 1)
    o.code_l2 = 0.0  # weight of the mean squared code (the seeds' L2 latent penalty: 0.2)
    o.code_l1 = 0.0  # weight of the mean absolute code (sparse autoencoder)
    o.input_dropout = 0.0  # denoising: each input pixel zeroed with this probability; clean target
    o.contractive = 0.0  # weight of the encoder Jacobian's squared Frobenius norm (contractive AE)
    return o


MODELS = {
    "ae": ModelSpec(
        make,
        ae_options,
        choices={
            "arch": ("conv", "mlp", "fully_conv", "conv_linear", "linear"),
            "recon_loss": losses.RECONSTRUCTION_LOSSES,
            "code_activation": ("none", "sigmoid"),
        },
        positive=(*options.CONV_POSITIVE, *options.MLP_POSITIVE),
        non_negative=("code_l2", "code_l1", "contractive"),
        check=config_problem,
    )
}
