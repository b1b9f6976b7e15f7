"""Variational autoencoders (Kingma & Welling 2013, arXiv:1312.6114) with an optional IWAE objective
(Burda et al. 2015, arXiv:1509.00519).

- `model.arch='mlp'`: the seeds' VAE, MLP 784-400-(latent)-400-784 (`model.hidden`, `model.depth`).
- `model.arch='conv'`: the DCGAN down stack to (mean, log-variance), the DCGAN up stack back to pixels.
- `model.decoder_dist`: 'bernoulli' (logits; binary or [0, 1] pixels) or 'gaussian' (mean in (0, 1) and one
  learned scale for every pixel, so the likelihood weighs itself against the KL, as Rybkin et al. 2020).

MNIST arrives padded to 32x32; the likelihood covers the pixels inside a `model.crop`-wide border only
(crop 2: the 784 pixels of the original digits), so its nats read as in the literature, where dynamically
binarised MNIST (`model.binarize`) is the benchmark. `model.iwae_k` > 1 trains on the k-sample
importance-weighted bound instead of the ELBO; `model.kl_weight` != 1 gives a beta-VAE.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.metrics import dynamic_binarize
from jaxgen.models import options
from jaxgen.models.autoencoder import autoencoding, reconstruction_scores
from jaxgen.models.family import Family, ModelSpec, Setup, Update, apply_net


class MLPEncoder(nn.Module):
    """Flat pixels [B, D] -> (mean, log-variance) of q(z | x), each [B, latent]."""

    hidden: int
    depth: int
    latent_dim: int
    dtype: str = "float32"  # the products' operands (layers.dense)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        out = layers.MLP(self.hidden, self.depth, 2 * self.latent_dim, self.dtype)(x)
        return out[..., : self.latent_dim], out[..., self.latent_dim :]


class ConvEncoder(nn.Module):
    """Images [B, S, S, C] -> (mean, log-variance) [B, latent] through the DCGAN down stack."""

    widths: Sequence[int]
    latent_dim: int
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        out = nn.Dense(2 * self.latent_dim)(layers.DownStack(self.widths, conv=self.conv)(x, train))
        return out[..., : self.latent_dim], out[..., self.latent_dim :]


class Decoder(nn.Module):
    """Codes [N, latent] -> (pre-sigmoid pixel outputs [N, D] over the modelled pixels, log-scale or None).

    'mlp': an MLP to the D pixels; 'conv': the DCGAN up stack to [N, S, S, C], cropped to the same D pixels.
    A Gaussian decoder also owns one learned log standard deviation shared by all pixels.
    """

    arch: str
    hidden: int
    depth: int
    pixels: int
    crop: int
    widths: Sequence[int] = ()
    channels: int = 1
    gaussian: bool = False
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True):
        if self.arch == "mlp":
            out = layers.MLP(self.hidden, self.depth, self.pixels, self.conv.dense_dtype)(z)
        else:
            images = layers.UpStack(self.widths, self.channels, conv=self.conv)(z, train)
            out = layers.crop_flat(images, self.crop)
        log_scale = self.param("log_scale", nn.initializers.zeros, ()) if self.gaussian else None
        return out, log_scale


def log_likelihood(out: jax.Array, log_scale: jax.Array | None, x: jax.Array) -> jax.Array:
    """log p(x | z) summed over pixels [...]: Bernoulli(sigmoid(out)) or N(sigmoid(out), exp(log_scale)^2)."""
    if log_scale is None:
        return losses.bernoulli_log_likelihood(out, x)
    mean = jax.nn.sigmoid(out)
    return losses.diagonal_gaussian_log_density(x, mean, jnp.broadcast_to(2.0 * log_scale, mean.shape))


def make(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """VAE family: networks 'enc' and 'dec', one update on -ELBO (or -IWAE_k) in nats per image."""
    size, _, channels = setup.image_shape
    crop = model.crop
    pixels = (size - 2 * crop) ** 2 * channels
    if model.arch == "mlp":
        enc = MLPEncoder(model.hidden, model.depth, model.latent_dim, setup.conv.dense_dtype)
        enc_input = (1, pixels)
    elif model.arch == "conv":
        enc = ConvEncoder(layers.down_widths(model.width), model.latent_dim, setup.conv)
        enc_input = (1, *setup.image_shape)
    else:
        raise ValueError(f"model.arch={model.arch!r}: the VAE is 'mlp' or 'conv'")
    dec = Decoder(
        model.arch, model.hidden, model.depth, pixels, crop, layers.up_widths(model.width, size), channels,
        model.decoder_dist == "gaussian", setup.conv,
    )  # fmt: skip

    def flat(images):
        return layers.crop_flat(images, crop)

    def posterior(params, state, images, train):
        inputs = flat(images) if model.arch == "mlp" else images
        (mean, logvar), state = apply_net(enc, "enc", params, state, inputs, train=train)
        return mean, logvar, state

    def decode_out(params, state, z, train):
        """Decoder outputs for codes [..., latent] -> ([..., D], log-scale); leading axes are flattened."""
        lead = z.shape[:-1]
        (out, log_scale), state = apply_net(
            dec, "dec", params, state, z.reshape(-1, z.shape[-1]), train=train
        )
        return out.reshape(*lead, pixels), log_scale, state

    def log_weights(params, state, images, key, n):
        """log p(x, z_i) - log q(z_i | x) [B, n] for z_i ~ q(z | x), images [B, S, S, C]."""
        x = flat(images)
        mean, logvar, _ = posterior(params, state, images, train=False)
        eps = jax.random.normal(key, (x.shape[0], n, mean.shape[-1]))
        z = mean[:, None] + jnp.exp(0.5 * logvar)[:, None] * eps
        out, log_scale, _ = decode_out(params, state, z, train=False)
        log_prior = losses.diagonal_gaussian_log_density(z, 0.0, jnp.zeros_like(z))
        log_q = losses.diagonal_gaussian_log_density(z, mean[:, None], logvar[:, None])
        return log_likelihood(out, log_scale, x[:, None]) + log_prior - log_q

    def loss(params, state, batch, key):
        """-ELBO (analytic KL, one sample) or -IWAE_k, in nats per image, of batch['image'] [B, S, S, C]."""
        binarize_key, noise_key = jax.random.split(key)
        images = dynamic_binarize(binarize_key, batch["image"]) if model.binarize else batch["image"]
        if model.iwae_k > 1:
            lw = log_weights(params, state, images, noise_key, model.iwae_k)
            bound = jax.scipy.special.logsumexp(lw, axis=1) - jnp.log(model.iwae_k)
            return -bound.mean(), ({"iwae_bound": bound.mean()}, state)
        mean, logvar, state = posterior(params, state, images, train=True)
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(noise_key, mean.shape)
        out, log_scale, state = decode_out(params, state, z, train=True)
        log_px = log_likelihood(out, log_scale, flat(images))
        kl = losses.gaussian_kl_to_standard(mean, logvar)
        elbo = (log_px - kl).mean()
        metrics = {"elbo": elbo, "kl": kl.mean(), "log_px_given_z": log_px.mean()}
        if log_scale is not None:
            metrics["pixel_std"] = jnp.exp(log_scale)
        return -(log_px - model.kl_weight * kl).mean(), (metrics, state)

    def decode_mean(params, state, z):
        out, _, _ = decode_out(params, state, z, train=False)
        return layers.uncrop_flat(jax.nn.sigmoid(out), crop, size, channels)

    def encode(params, state, images):
        mean, _, _ = posterior(params, state, images, train=False)
        return mean

    def sample(params, state, key, n):
        return {"images": decode_mean(params, state, jax.random.normal(key, (n, model.latent_dim)))}

    def evaluate(params, state, batch):
        """Per-pixel MSE / BCE of the mean reconstruction (over the modelled pixels)."""
        out, _, _ = decode_out(params, state, encode(params, state, batch["image"]), train=False)
        return reconstruction_scores(jax.nn.sigmoid(out), out, flat(batch["image"]))

    return Family(
        networks={"enc": enc, "dec": dec},
        example_inputs={
            "enc": (jax.ShapeDtypeStruct(enc_input, jnp.float32),),
            "dec": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={"enc": setup.optimizer, "dec": setup.optimizer},
        updates=(Update("vae", ("enc", "dec"), loss),),
        can=autoencoding(
            encode,
            decode_mean,
            sample,
            evaluate,
            "gaussian",
            log_weights=log_weights,
            binary_data=model.binarize,
        ),
    )


def vae_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, 2)
    o.arch = "mlp"  # mlp (the seeds' 784-400-(latent)-400-784) | conv (DCGAN stacks)
    options.mlp_net(o, hidden=400, depth=1)
    o.binarize = True  # train on dynamically binarised images, x ~ Bernoulli(pixel)
    o.iwae_k = 1  # objective: 1 = the ELBO, k > 1 = the importance-weighted bound with k samples
    o.decoder_dist = "bernoulli"  # bernoulli | gaussian (learned shared scale) likelihood
    o.kl_weight = 1.0  # weight of the KL term (1 = the ELBO; a beta-VAE otherwise)
    return o


SETTINGS = {
    "optim.lr": 1e-3,
    "optim.b1": 0.9,
    "train.batch_size": 128,
    "train.num_steps": 4680,  # 10 epochs
    "train.eval_every": 468,  # once per epoch
    "train.checkpoint_every": 468,
}
MODELS = {
    "vae": ModelSpec(
        make,
        vae_options,
        SETTINGS,
        choices={"arch": ("mlp", "conv"), "decoder_dist": ("bernoulli", "gaussian")},
        positive=(*options.CONV_POSITIVE, *options.MLP_POSITIVE, "iwae_k"),
        non_negative=("kl_weight",),
        check=options.crop_problem,
    )
}
