"""Autoencoders: the seeds' DCGAN-style conv autoencoder (latent 100, or 2 for the manifold).

Variants are config fields, not copies: sigmoid-bounded codes (`model.code_activation`), an L2 or L1
penalty on the codes (`model.code_l2`, `model.code_l1`: the sparse AE), masking noise on the input with a
clean target (`model.input_dropout`: the denoising AE).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import layers, losses
from jaxgen.models.family import Family, Update, apply_net


class ConvEncoder(nn.Module):
    """[B, S, S, C] -> codes [B, latent_dim] (DCGAN down stack + dense)."""

    latent_dim: int
    widths: Sequence[int]
    conv: layers.ConvOptions = layers.ConvOptions()
    code_activation: str = "none"  # none | sigmoid (codes in (0, 1))

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        codes = nn.Dense(self.latent_dim)(layers.DownStack(self.widths, conv=self.conv)(x, train))
        return jax.nn.sigmoid(codes) if self.code_activation == "sigmoid" else codes


class ConvDecoder(nn.Module):
    """codes [B, latent_dim] -> pre-activation images [B, S, S, C] (DCGAN up stack)."""

    widths: Sequence[int]
    out_channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        return layers.UpStack(self.widths, self.out_channels, conv=self.conv)(z, train)


def make(model: ml_collections.ConfigDict, optimizer: optax.GradientTransformation, image_shape) -> Family:
    """Conv autoencoder family: networks 'enc' and 'dec', one reconstruction update over both."""
    size, _, channels = image_shape
    conv = layers.ConvOptions(model.conv_impl, model.compute_dtype)
    enc = ConvEncoder(model.latent_dim, layers.down_widths(model.width), conv, model.code_activation)
    dec = ConvDecoder(layers.up_widths(model.width, size), channels, conv=conv)
    kind = model.recon_loss

    def decode(params, state, z, train):
        logits, state = apply_net(dec, "dec", params, state, z, train=train)
        return (logits if kind == "bce" else jax.nn.sigmoid(logits)), state

    def loss(params, state, batch, key):
        """Per-pixel reconstruction error of the clean batch['image'] [B, S, S, C] ('mse', or 'bce' on
        logits) from a possibly masked input, plus the weighted code penalties."""
        clean = batch["image"]
        inputs = losses.pixel_dropout(key, clean, model.input_dropout) if model.input_dropout else clean
        codes, state = apply_net(enc, "enc", params, state, inputs, train=True)
        output, state = decode(params, state, codes, train=True)
        err = losses.reconstruction_loss(output, clean, kind).mean()
        metrics = {f"recon_{kind}": err}
        total = err
        for weight, name, penalty in (
            (model.code_l2, "code_l2", losses.l2_code_penalty),
            (model.code_l1, "code_l1", losses.l1_code_penalty),
        ):
            if weight:
                metrics[name] = penalty(codes).mean()
                total = total + weight * metrics[name]
        return total, (metrics, state)

    def decode_images(params, state, z):
        output, _ = decode(params, state, z, train=False)
        return jax.nn.sigmoid(output) if kind == "bce" else output

    def reconstruct(params, state, images):
        codes, _ = apply_net(enc, "enc", params, state, images, train=False)
        return decode_images(params, state, codes)

    def sample(params, state, key, n):
        # A plain AE has no prior; decoding N(0, I) codes is the seeds' "random samples" picture.
        return {"images": decode_images(params, state, jax.random.normal(key, (n, model.latent_dim)))}

    def evaluate(params, state, batch):
        codes, _ = apply_net(enc, "enc", params, state, batch["image"], train=False)
        output, _ = decode(params, state, codes, train=False)
        # BCE needs logits: the bce decoder gives them; a sigmoid decoder's pixels are mapped back.
        logits = output if kind == "bce" else jax.scipy.special.logit(jnp.clip(output, 1e-6, 1 - 1e-6))
        return {
            "mse": losses.reconstruction_loss(jax.nn.sigmoid(logits), batch["image"], "mse"),
            "bce": losses.reconstruction_loss(logits, batch["image"], "bce"),
        }

    def encode(params, state, images):
        codes, _ = apply_net(enc, "enc", params, state, images, train=False)
        return codes

    return Family(
        networks={"enc": enc, "dec": dec},
        example_inputs={
            "enc": (jax.ShapeDtypeStruct((1, *image_shape), jnp.float32),),
            "dec": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
        },
        optimizers={"enc": optimizer, "dec": optimizer},
        updates=(Update("ae", ("enc", "dec"), loss),),
        sample=sample,
        reconstruct=reconstruct,
        evaluate=evaluate,
        encode=encode,
        decode=decode_images,
        code_space="unit_box" if model.code_activation == "sigmoid" else "data",
    )
