"""The seeds' MNIST CNN classifier: conv 64/128/256/512 (k4 s2), BatchNorm, LeakyReLU 0.2, dense -> 10.

A narrow copy of it (configs/feature_extractor.py) is the feature extractor of jaxgen.metrics; its
penultimate activations (the flattened last conv map) are the "features" there.

`model.spatial_transformer` puts an affine spatial transformer in front of it (the ST-CNN of Jaderberg et
al. 2015, arXiv:1506.02025): a small localisation network reads the image and predicts the affine map
theta [2, 3] of where each output pixel should read (starting at the identity), the image is resampled
through it (jaxgen.spatial) and the CNN classifies the result; the whole is trained by the classification
loss alone. With `model.transform=tps` the localiser predicts instead where each of an n x n grid of control
points reads in the image, and the sampling grid is the thin-plate spline through them (the paper's
ST-CNN TPS; `model.tps_points` = n, 4 by default).

`model.arch=fcn` replaces the CNN by the paper's other baseline, a fully connected network (FCN: `model.depth`
ReLU layers of `model.hidden` units on the flattened image); with the spatial transformer it is the ST-FCN,
whose localiser is fully connected too. Sizes: the paper's appendix could not be read here; a public PyTorch
re-implementation takes from it 128-256 units per FCN layer and 32 per localiser layer. Ours: two layers
of 256 units, and a localiser of two layers of 32.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses, spatial
from jaxgen.models import options
from jaxgen.models.family import Abilities, Family, ModelSpec, Setup, Update, apply_net

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # theta of the identity map, row by row


class Localiser(nn.Module):
    """images [B, S, S, C] -> the transform (transform_head: theta [B, 2, 3] or the TPS control points'
    positions): two k4 s2 convs, a dense layer, and an output layer whose weights start at zero and bias
    at the identity, so training starts from the untransformed image. The
    convs start He-normal: at DCGAN's N(0, 0.02) the hidden features were tiny, and so was every gradient
    reaching the zero output layer (theta moved by less than 0.005 in 4685 steps)."""

    width: int = 16
    hidden: int = 64
    conv: layers.ConvOptions = layers.ConvOptions()
    transform: str = "affine"
    tps_points: int = 4

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.he_normal()
        h = nn.relu(layers.Conv(self.width, conv=self.conv, kernel_init=init)(x))
        h = nn.relu(layers.Conv(2 * self.width, conv=self.conv, kernel_init=init)(h))
        h = nn.relu(nn.Dense(self.hidden)(h.reshape(x.shape[0], -1)))
        return transform_head(h, self.transform, self.tps_points)


def transform_head(h: jax.Array, transform: str, tps_points: int) -> jax.Array:
    """A localiser's output layer, zero weights and the identity as bias: [B, F] -> theta [B, 2, 3]
    (affine) or where the tps_points x tps_points control points read in the image [B, K, 2] (tps)."""
    if transform == "affine":
        identity, shape = jnp.array(IDENTITY), (2, 3)
    else:
        identity, shape = spatial.tps_control_points(tps_points).ravel(), (-1, 2)
    bias = nn.initializers.constant(identity)
    out = nn.Dense(identity.size, kernel_init=nn.initializers.zeros, bias_init=bias)(h)
    return out.reshape(h.shape[0], *shape)


class DenseLocaliser(nn.Module):
    """The ST-FCN's localiser, images [B, S, S, C] -> the transform: two He-initialised ReLU layers on the
    flattened image, then transform_head."""

    hidden: int = 32
    transform: str = "affine"
    tps_points: int = 4

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.he_normal()
        h = x.reshape(x.shape[0], -1)
        for _ in range(2):
            h = nn.relu(nn.Dense(self.hidden, kernel_init=init)(h))
        return transform_head(h, self.transform, self.tps_points)


def warp_through(transform_params: jax.Array, x: jax.Array, transform: str) -> jax.Array:
    """The images x resampled at their own size through transform_head's output: affine maps [B, 2, 3]
    or thin-plate splines through the control points' source positions [B, K, 2]."""
    height, width = x.shape[1:3]
    if transform == "affine":
        return spatial.affine_warp(x, transform_params, height, width)
    return spatial.bilinear_sample(x, spatial.tps_grid(transform_params, height, width))


class Classifier(nn.Module):
    """[B, S, S, C] in [0, 1] -> logits [B, num_classes] by the CNN (arch="cnn": the DownStack of `widths`)
    or the FCN (arch="fcn": `depth` ReLU layers of `hidden` units on the flattened image); with
    spatial_transformer, it reads the image resampled through the transform its localiser predicts (a conv
    Localiser for the CNN, a DenseLocaliser for the FCN)."""

    arch: str = "cnn"
    widths: Sequence[int] = (64, 128, 256, 512)
    hidden: int = 256
    depth: int = 2
    num_classes: int = 10
    conv: layers.ConvOptions = layers.ConvOptions()
    spatial_transformer: bool = False
    transform: str = "affine"  # the spatial transformer's: affine | tps
    tps_points: int = 4

    @nn.compact
    def __call__(
        self, x: jax.Array, train: bool = True, with_features: bool = False, rectified: bool = False
    ):
        """Logits, or (features [B, F], logits) when with_features, or (rectified) the transformed input."""
        if self.spatial_transformer:
            shape = {"transform": self.transform, "tps_points": self.tps_points, "name": "localiser"}
            cnn = self.arch == "cnn"
            localiser = Localiser(conv=self.conv, **shape) if cnn else DenseLocaliser(**shape)
            x = warp_through(localiser(x), x, self.transform)
        if rectified:
            return x
        if self.arch == "cnn":
            features = layers.DownStack(self.widths, use_batch_norm=True, conv=self.conv)(x, train)
        else:
            features = x.reshape(x.shape[0], -1)
            for _ in range(self.depth):
                features = nn.relu(nn.Dense(self.hidden)(features))
        logits = nn.Dense(self.num_classes)(features)
        return (features, logits) if with_features else logits


def network(model: ml_collections.ConfigDict, setup: Setup) -> Classifier:
    """The classifier network of the config's model block."""
    return Classifier(
        arch=model.arch,
        widths=layers.down_widths(model.width),
        hidden=model.hidden,
        depth=model.depth,
        conv=setup.conv,
        spatial_transformer=model.spatial_transformer,
        transform=model.transform,
        tps_points=model.tps_points,
    )


def make(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Classifier family: one network 'cls', one cross-entropy update."""
    cls = network(model, setup)

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

    def rectify(params, state, images):
        """What the spatial transformer makes of the images, before the CNN reads them."""
        return apply_net(cls, "cls", params, state, images, train=False, rectified=True)[0]

    return Family(
        networks={"cls": cls},
        example_inputs={"cls": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)},
        optimizers={"cls": setup.optimizer},
        updates=(Update("cls", ("cls",), loss),),
        can=Abilities(
            classify=classify, encode=encode, rectify=rectify if model.spatial_transformer else None
        ),
    )


DISTORTED_EPOCHS = 10  # the distorted-MNIST runs' schedule


def distorted_mnist_config(
    distortion: str,
    spatial_transformer: bool,
    arch: str = "cnn",
    transform: str = "affine",
    epochs: int = DISTORTED_EPOCHS,
) -> ml_collections.ConfigDict:
    """The config of the spatial transformer paper's CNN / ST-CNN (or with arch="fcn", FCN / ST-FCN; with
    transform="tps", the thin-plate-spline transformer) on distorted MNIST `distortion` (r, rts, p or e:
    data.domain_a=distorted_<distortion>), trained `epochs` epochs on fresh distortions in every batch (one
    fixed distortion per training image let the CNN memorise them: 100% training accuracy from epoch 13 of
    20, test error stuck at 1.38% on R)."""
    from jaxgen.config import base_config  # the config module imports the model registry

    steps_per_epoch = SETTINGS["train.eval_every"]
    return base_config(
        "classifier",
        model={"spatial_transformer": spatial_transformer, "arch": arch, "transform": transform},
        data={"domain_a": f"distorted_{distortion}", "redraw_domain_a": True},
        train={"num_steps": epochs * steps_per_epoch},
    )


SETTINGS = {
    "optim.lr": 1e-3,
    "optim.b1": 0.9,
    "optim.schedule": "cosine",
    "train.num_steps": 4685,  # 5 epochs of batch 64
    "train.eval_every": 937,  # once per epoch
    "train.checkpoint_every": 937,
}


def tps_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    """A thin-plate spline needs at least the 2 x 2 corners as control points."""
    del data
    if model.transform == "tps" and model.tps_points < 2:
        return f"model.tps_points={model.tps_points} must be >= 2 (an n x n grid of control points)"
    return None


def classifier_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, latent_dim=None)
    o.arch = "cnn"  # cnn: the conv stack above | fcn: a fully connected network (the paper's FCN)
    o.hidden = 256  # units of each hidden layer of the FCN (arch=fcn)
    o.depth = 2  # hidden layers of the FCN (arch=fcn)
    o.spatial_transformer = False  # True: a spatial transformer in front (ST-CNN / ST-FCN)
    o.transform = "affine"  # the spatial transformer's: affine | tps (a thin-plate spline)
    o.tps_points = 4  # tps: an n x n grid of control points whose source positions the localiser predicts
    return o


MODELS = {
    "classifier": ModelSpec(
        make,
        classifier_options,
        SETTINGS,
        choices={"arch": ("cnn", "fcn"), "transform": ("affine", "tps")},
        positive=("width", "hidden", "depth"),
        check=tps_problem,
    )
}
