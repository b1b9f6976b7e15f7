"""The seeds' MNIST CNN classifier: conv 64/128/256/512 (k4 s2), BatchNorm, LeakyReLU 0.2, dense -> 10.

A narrow copy of it (configs/feature_extractor.py) is the feature extractor of jaxgen.metrics; its
penultimate activations (the flattened last conv map) are the "features" there.
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


class CNN(nn.Module):
    """[B, S, S, C] in [0, 1] -> logits [B, num_classes]."""

    widths: Sequence[int] = (64, 128, 256, 512)
    num_classes: int = 10
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True, with_features: bool = False):
        """Logits, or (features [B, F], logits) when with_features."""
        features = layers.DownStack(self.widths, use_batch_norm=True, conv=self.conv)(x, train)
        logits = nn.Dense(self.num_classes)(features)
        return (features, logits) if with_features else logits


def make(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Classifier family: one network 'cls', one cross-entropy update."""
    cls = CNN(layers.down_widths(model.width), conv=setup.conv)

    def loss(params, state, batch, key):
        """Mean cross-entropy of batch['label'] under cls(batch['image']) [B, 10]."""
        del key
        logits, state = apply_net(cls, "cls", params, state, batch["image"], train=True)
        ce = losses.softmax_cross_entropy(logits, batch["label"])
        accuracy = jnp.mean(jnp.argmax(logits, -1) == batch["label"])
        return ce.mean(), ({"loss": ce.mean(), "accuracy": accuracy}, state)

    def classify(params, state, images):
        return apply_net(cls, "cls", params, state, images, train=False)[0]

    def encode(params, state, images):
        """Penultimate features [B, F]: what the PCA / t-SNE pictures and the latent probes look at."""
        (features, _), _ = apply_net(cls, "cls", params, state, images, train=False, with_features=True)
        return features

    return Family(
        networks={"cls": cls},
        example_inputs={"cls": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"cls": setup.optimizer},
        updates=(Update("cls", ("cls",), loss),),
        can=Abilities(classify=classify, encode=encode),
    )


SETTINGS = {
    "optim.lr": 1e-3,
    "optim.b1": 0.9,
    "optim.schedule": "cosine",
    "train.num_steps": 4685,  # 5 epochs of batch 64
    "train.eval_every": 937,  # once per epoch
    "train.checkpoint_every": 937,
}
MODELS = {
    "classifier": ModelSpec(
        make, lambda: options.conv_net(64, latent_dim=None), SETTINGS, positive=("width",)
    )
}
