"""Variational autoencoders (Kingma & Welling 2013, arXiv:1312.6114) with an optional IWAE objective.

The seeds' VAE is an MLP 784-400-(latent)-400-784 with a Bernoulli decoder. MNIST arrives padded to 32x32;
`model.crop` pixels are cut from each border first, so the model sees the 784 pixels of the original
digits and its likelihood reads in the nats of the literature (Burda et al. 2015 use dynamically binarised
MNIST: `model.binarize`). `model.iwae_k` > 1 trains on the importance-weighted bound instead of the ELBO.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import losses
from jaxgen.metrics import dynamic_binarize
from jaxgen.models.family import Family, Update, apply_net


class MLPEncoder(nn.Module):
    """Flat pixels [B, D] -> (mean, log-variance) of q(z | x), each [B, latent]."""

    hidden: int
    latent_dim: int

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        h = nn.relu(nn.Dense(self.hidden)(x))
        return nn.Dense(self.latent_dim)(h), nn.Dense(self.latent_dim)(h)


class MLPDecoder(nn.Module):
    """Codes [..., latent] -> Bernoulli logits of the flat pixels [..., D]."""

    hidden: int
    pixels: int

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        h = nn.relu(nn.Dense(self.hidden)(z))
        return nn.Dense(self.pixels)(h)


def make(model: ml_collections.ConfigDict, optimizer: optax.GradientTransformation, image_shape) -> Family:
    """MLP VAE family: networks 'enc' and 'dec', one update on -ELBO (or -IWAE_k) in nats per image."""
    size, _, channels = image_shape
    crop = model.crop
    side = size - 2 * crop
    if side <= 0:
        raise ValueError(f"model.crop={crop} leaves nothing of a {size}x{size} image")
    pixels = side * side * channels
    enc, dec = MLPEncoder(model.hidden, model.latent_dim), MLPDecoder(model.hidden, pixels)

    def flat(images):
        return images[:, crop : size - crop, crop : size - crop, :].reshape(images.shape[0], -1)

    def to_image(flat_pixels):
        image = flat_pixels.reshape(-1, side, side, channels)
        return jnp.pad(image, ((0, 0), (crop, crop), (crop, crop), (0, 0)))

    def posterior(params, state, images, train):
        (mean, logvar), state = apply_net(enc, "enc", params, state, flat(images), train=train)
        return mean, logvar, state

    def log_weights(params, state, images, key, n):
        """log p(x, z_i) - log q(z_i | x) [B, n] for z_i ~ q(z | x), binary images [B, S, S, C]."""
        x = flat(images)
        mean, logvar, _ = posterior(params, state, images, train=False)
        eps = jax.random.normal(key, (x.shape[0], n, mean.shape[-1]))
        z = mean[:, None] + jnp.exp(0.5 * logvar)[:, None] * eps
        logits, _ = apply_net(dec, "dec", params, state, z, train=False)
        log_prior = losses.diagonal_gaussian_log_density(z, 0.0, jnp.zeros_like(z))
        log_q = losses.diagonal_gaussian_log_density(z, mean[:, None], logvar[:, None])
        return losses.bernoulli_log_likelihood(logits, x[:, None]) + log_prior - log_q

    def loss(params, state, batch, key):
        """-ELBO (analytic KL, one sample) or -IWAE_k, in nats per image, of batch['image']."""
        binarize_key, noise_key = jax.random.split(key)
        images = dynamic_binarize(binarize_key, batch["image"]) if model.binarize else batch["image"]
        if model.iwae_k > 1:
            lw = log_weights(params, state, images, noise_key, model.iwae_k)
            bound = jax.scipy.special.logsumexp(lw, axis=1) - jnp.log(model.iwae_k)
            return -bound.mean(), ({"iwae_bound": bound.mean()}, state)
        mean, logvar, state = posterior(params, state, images, train=True)
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(noise_key, mean.shape)
        logits, state = apply_net(dec, "dec", params, state, z, train=True)
        log_px = losses.bernoulli_log_likelihood(logits, flat(images))
        kl = losses.gaussian_kl_to_standard(mean, logvar)
        elbo = (log_px - kl).mean()
        return -elbo, ({"elbo": elbo, "kl": kl.mean(), "log_px_given_z": log_px.mean()}, state)

    def decode_mean(params, state, z):
        logits, _ = apply_net(dec, "dec", params, state, z, train=False)
        return to_image(jax.nn.sigmoid(logits))

    def encode(params, state, images):
        mean, _, _ = posterior(params, state, images, train=False)
        return mean

    def reconstruct(params, state, images):
        return decode_mean(params, state, encode(params, state, images))

    def sample(params, state, key, n):
        return {"images": decode_mean(params, state, jax.random.normal(key, (n, model.latent_dim)))}

    def evaluate(params, state, batch):
        """Per-pixel MSE / BCE of the mean reconstruction (over the modelled pixels)."""
        logits, _ = apply_net(dec, "dec", params, state, encode(params, state, batch["image"]), train=False)
        target = flat(batch["image"])
        return {
            "mse": losses.reconstruction_loss(jax.nn.sigmoid(logits), target, "mse"),
            "bce": losses.reconstruction_loss(logits, target, "bce"),
        }

    return Family(
        networks={"enc": enc, "dec": dec},
        example_inputs={
            "enc": (jax.ShapeDtypeStruct((1, pixels), jnp.float32),),
            "dec": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={"enc": optimizer, "dec": optimizer},
        updates=(Update("vae", ("enc", "dec"), loss),),
        sample=sample,
        reconstruct=reconstruct,
        evaluate=evaluate,
        encode=encode,
        decode=decode_mean,
        code_space="gaussian",
        log_weights=log_weights,
    )
