"""GANs with codes the user can set, on the DCGAN networks:

- conditional GAN: Mirza & Osindero 2014 (arXiv:1411.1784) - the one-hot label is appended to the
  generator's noise and given to the discriminator as 10 constant image planes;
- ACGAN: Odena et al. 2017 (arXiv:1610.09585) - the discriminator also classifies the digit; both networks
  minimise the class cross-entropy (on real images for D, on generated ones for both);
- InfoGAN: Chen et al. 2016 (arXiv:1606.03657) - a 10-way categorical and `model.info_continuous`
  uniform(-1, 1) codes appended to the noise; a Q head on the discriminator's body predicts them, and the
  mutual-information loss (losses.info_gan_mutual_information_loss) trains the generator and, on the
  discriminator's side, the shared body with the Q head (as the paper's reference code).

Images are mapped to [-1, 1] for the networks, as the plain GAN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import layers, losses
from jaxgen.data import from_signed, to_signed
from jaxgen.models import options, priors
from jaxgen.models.family import Abilities, Family, ModelSpec, Pictures, Setup, Update, apply_net
from jaxgen.models.gan import Generator

NUM_CLASSES = 10


class LabelDiscriminator(nn.Module):
    """(images [B, S, S, C], one-hot labels [B, K]) -> logit [B]: labels enter as K constant planes."""

    widths: Sequence[int]
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, onehot: jax.Array, train: bool = True) -> jax.Array:
        planes = jnp.broadcast_to(onehot[:, None, None, :], (*x.shape[:3], onehot.shape[-1]))
        h = layers.DownStack(self.widths, conv=self.conv)(jnp.concatenate([x, planes], axis=-1), train)
        return nn.Dense(1, kernel_init=layers.dcgan_init)(h)[:, 0]


class HeadedDiscriminator(nn.Module):
    """images [B, S, S, C] -> (real/fake logit [B], extra head [B, extra], body features [B, F]).

    ACGAN's extra head is the class logits; InfoGAN's Q head is a separate network on the body features,
    so the body is returned as well.
    """

    widths: Sequence[int]
    extra: int = 0
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        h = layers.DownStack(self.widths, conv=self.conv)(x, train)
        logit = nn.Dense(1, kernel_init=layers.dcgan_init)(h)[:, 0]
        extra = nn.Dense(self.extra)(h) if self.extra else jnp.zeros((x.shape[0], 0), x.dtype)
        return logit, extra, h


class PaperInfoGenerator(nn.Module):
    """The InfoGAN paper's MNIST generator (Chen et al. 2016, Table 1) for S x S images: codes -> FC 1024
    -> FC (S/4)^2 x 128 -> transposed conv 64 -> transposed conv to the channels, BatchNorm + ReLU between,
    tanh out."""

    image_shape: tuple[int, int, int]
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        size, _, channels = self.image_shape
        side = size // 4
        init = layers.dcgan_init
        x = nn.relu(layers.batch_norm(train)(nn.Dense(1024, use_bias=False, kernel_init=init)(z)))
        x = nn.Dense(side * side * 128, use_bias=False, kernel_init=init)(x)
        x = nn.relu(layers.batch_norm(train)(x)).reshape(z.shape[0], side, side, 128)
        x = layers.Conv(64, transpose=True, use_bias=False, conv=self.conv, kernel_init=init)(x)
        x = nn.relu(layers.batch_norm(train)(x))
        return jnp.tanh(layers.Conv(channels, transpose=True, conv=self.conv, kernel_init=init)(x))


class PaperInfoDiscriminator(nn.Module):
    """The InfoGAN paper's MNIST discriminator body shared with Q (Table 1): conv 64 - conv 128 + BatchNorm
    - FC 1024 + BatchNorm, leaky ReLU (slope 0.1 by default); returns (real/fake logit [B], empty [B, 0],
    body [B, 1024]) like HeadedDiscriminator."""

    conv: layers.ConvOptions = layers.ConvOptions()
    slope: float = 0.1  # of the leaky ReLUs

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        init = layers.dcgan_init
        h = nn.leaky_relu(layers.Conv(64, conv=self.conv, kernel_init=init)(x), self.slope)
        h = layers.Conv(128, use_bias=False, conv=self.conv, kernel_init=init)(h)
        h = nn.leaky_relu(layers.batch_norm(train)(h), self.slope).reshape(x.shape[0], -1)
        h = nn.Dense(PAPER_BODY, use_bias=False, kernel_init=init)(h)
        h = nn.leaky_relu(layers.batch_norm(train)(h), self.slope)
        logit = nn.Dense(1, kernel_init=init)(h)[:, 0]
        return logit, jnp.zeros((x.shape[0], 0), x.dtype), h


PAPER_BODY = 1024  # features of the paper discriminator's body, Q's input


class QHead(nn.Module):
    """InfoGAN's Q: discriminator body features [B, F] -> (category logits [B, 10], means [B, C])."""

    continuous: int
    hidden: int = 128
    slope: float = 0.2  # of the leaky ReLU
    kernel_init: Callable = nn.linear.default_kernel_init

    @nn.compact
    def __call__(self, h: jax.Array, train: bool = True):
        h = nn.Dense(self.hidden, use_bias=False, kernel_init=self.kernel_init)(h)
        h = nn.leaky_relu(layers.batch_norm(train)(h), self.slope)
        out = nn.Dense(NUM_CLASSES + self.continuous, kernel_init=self.kernel_init)(h)
        return out[:, :NUM_CLASSES], out[:, NUM_CLASSES:]


# Q's dense weight initialisers, by model.q_init
Q_INITS = {"lecun": nn.linear.default_kernel_init, "dcgan": layers.dcgan_init}


def _generator(model: ml_collections.ConfigDict, setup: Setup, code_size: int):
    """The DCGAN generator fed [z, codes of code_size], and its example input."""
    size, _, channels = setup.image_shape
    gen = Generator(layers.up_widths(model.width, size), channels, conv=setup.conv)
    return gen, (jax.ShapeDtypeStruct((1, model.latent_dim + code_size), jnp.float32),)


def _image_input(setup: Setup) -> tuple[jax.ShapeDtypeStruct, ...]:
    return (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),)


def _balanced_labels(key: jax.Array, n: int) -> jax.Array:
    """n labels, each digit equally often (up to one), in random order."""
    return jax.random.permutation(key, jnp.arange(n) % NUM_CLASSES)


def _label_generator(gen: Generator, latent_dim: int):
    """(generate, sample, sweeps) of a generator fed [z, one-hot label]: generate(params, state, key, labels,
    train) -> (images in [-1, 1], state); sample(params, state, key, n) -> balanced labels and images in
    [0, 1]; sweeps -> the 10 x n digit table (row = digit, column = one noise vector shared by the rows)."""

    def from_codes(params, state, z, labels, train):
        onehot = jax.nn.one_hot(labels, NUM_CLASSES)
        return apply_net(gen, "gen", params, state, jnp.concatenate([z, onehot], -1), train=train)

    def generate(params, state, key, labels, train):
        z = jax.random.normal(key, (labels.shape[0], latent_dim))
        return from_codes(params, state, z, labels, train)

    def sample(params, state, key, n):
        label_key, noise_key = jax.random.split(key)
        labels = _balanced_labels(label_key, n)
        images, _ = generate(params, state, noise_key, labels, train=False)
        return {"images": from_signed(images), "labels": labels}

    def sweeps(params, state, key, n):
        z = jnp.tile(jax.random.normal(key, (n, latent_dim)), (NUM_CLASSES, 1))
        labels = jnp.repeat(jnp.arange(NUM_CLASSES), n)
        images, _ = from_codes(params, state, z, labels, train=False)
        return {"digits": from_signed(images).reshape(NUM_CLASSES, n, *images.shape[1:])}

    return generate, sample, sweeps


def make_cgan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """Conditional GAN: G(z, y) and D(x, y) with the non-saturating loss."""
    gen, gen_input = _generator(model, setup, NUM_CLASSES)
    disc = LabelDiscriminator(layers.down_widths(model.width), setup.conv)

    generate, sample, sweeps = _label_generator(gen, model.latent_dim)

    def disc_loss(params, state, batch, key):
        """-log D(x, y) - log(1 - D(G(z, y'), y')), y' the real batch's labels shuffled."""
        noise_key, label_key = jax.random.split(key)
        fake_labels = jax.random.permutation(label_key, batch["label"])
        fake, state = generate(params, state, noise_key, fake_labels, train=True)
        real_onehot, fake_onehot = (jax.nn.one_hot(y, NUM_CLASSES) for y in (batch["label"], fake_labels))
        real_logits, state = apply_net(
            disc, "disc", params, state, to_signed(batch["image"]), real_onehot, train=True
        )
        fake_logits, state = apply_net(
            disc, "disc", params, state, jax.lax.stop_gradient(fake), fake_onehot, train=True
        )
        loss = losses.gan_discriminator_loss(real_logits, fake_logits).mean()
        return loss, ({"loss": loss}, state)

    def gen_loss(params, state, batch, key):
        noise_key, label_key = jax.random.split(key)
        labels = _balanced_labels(label_key, batch["image"].shape[0])
        fake, state = generate(params, state, noise_key, labels, train=True)
        logits, state = apply_net(
            disc, "disc", params, state, fake, jax.nn.one_hot(labels, NUM_CLASSES), train=True
        )
        loss = losses.gan_generator_loss(logits, model.gan_loss).mean()
        return loss, ({"loss": loss}, state)

    return Family(
        networks={"gen": gen, "disc": disc},
        example_inputs={
            "gen": gen_input,
            "disc": (*_image_input(setup), jax.ShapeDtypeStruct((1, NUM_CLASSES), jnp.float32)),
        },
        optimizers={"gen": setup.optimizer, "disc": setup.optimizer},
        updates=(Update("disc", ("disc",), disc_loss), Update("gen", ("gen",), gen_loss)),
        can=Abilities(sample=sample),
        pictures=Pictures(sweeps=sweeps),
    )


def make_acgan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """ACGAN: G(z, y); D gives a real/fake logit and class logits; both minimise the class cross-entropy."""
    gen, gen_input = _generator(model, setup, NUM_CLASSES)
    disc = HeadedDiscriminator(layers.down_widths(model.width), NUM_CLASSES, setup.conv)

    generate, sample, sweeps = _label_generator(gen, model.latent_dim)

    def disc_loss(params, state, batch, key):
        """GAN loss + class cross-entropy of real images (their labels) and fakes (their requested labels)."""
        noise_key, label_key = jax.random.split(key)
        fake_labels = _balanced_labels(label_key, batch["image"].shape[0])
        fake, state = generate(params, state, noise_key, fake_labels, train=True)
        (real_logit, real_cls, _), state = apply_net(
            disc, "disc", params, state, to_signed(batch["image"]), train=True
        )
        (fake_logit, fake_cls, _), state = apply_net(
            disc, "disc", params, state, jax.lax.stop_gradient(fake), train=True
        )
        adversarial = losses.gan_discriminator_loss(real_logit, fake_logit)
        classification = losses.softmax_cross_entropy(
            real_cls, batch["label"]
        ) + losses.softmax_cross_entropy(fake_cls, fake_labels)
        loss = (adversarial + classification).mean()
        accuracy = jnp.mean(jnp.argmax(real_cls, -1) == batch["label"])
        return loss, ({"loss": loss, "real_class_accuracy": accuracy}, state)

    def gen_loss(params, state, batch, key):
        noise_key, label_key = jax.random.split(key)
        labels = _balanced_labels(label_key, batch["image"].shape[0])
        fake, state = generate(params, state, noise_key, labels, train=True)
        (logit, cls, _), state = apply_net(disc, "disc", params, state, fake, train=True)
        loss = (
            losses.gan_generator_loss(logit, model.gan_loss) + losses.softmax_cross_entropy(cls, labels)
        ).mean()
        return loss, ({"loss": loss}, state)

    return Family(
        networks={"gen": gen, "disc": disc},
        example_inputs={"gen": gen_input, "disc": _image_input(setup)},
        optimizers={"gen": setup.optimizer, "disc": setup.optimizer},
        updates=(Update("disc", ("disc",), disc_loss), Update("gen", ("gen",), gen_loss)),
        can=Abilities(sample=sample),
        pictures=Pictures(sweeps=sweeps),
    )


def make_infogan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """InfoGAN: networks gen, disc (body + D head) and q (Q head on the body). As in the paper's reference
    code, the mutual-information loss L_I is minimised by both sides: the disc update trains the body, the
    D head and the Q head on the GAN loss + info_weight x L_I of the fakes (the D head gets no L_I
    gradient), and the gen update trains G on its GAN loss + info_weight x L_I through the body and Q."""
    n_cont = model.info_continuous
    if model.arch == "paper":  # any size divisible by 4 (MNIST's own 28 too)
        gen = PaperInfoGenerator(setup.image_shape, setup.conv)
        gen_input = (jax.ShapeDtypeStruct((1, model.latent_dim + NUM_CLASSES + n_cont), jnp.float32),)
        disc, body_size = PaperInfoDiscriminator(setup.conv, model.disc_leaky_slope), PAPER_BODY
    else:
        gen, gen_input = _generator(model, setup, NUM_CLASSES + n_cont)
        disc = HeadedDiscriminator(layers.down_widths(model.width), 0, setup.conv)
        body_size = disc_body_features(model.width, setup.image_shape)
    q = QHead(n_cont, slope=model.q_leaky_slope, kernel_init=Q_INITS[model.q_init])

    noise = priors.NOISES[model.noise]

    def draw_codes(key, n):
        cat_key, cont_key, noise_key = jax.random.split(key, 3)
        categories = jax.random.randint(cat_key, (n,), 0, NUM_CLASSES)
        continuous = jax.random.uniform(cont_key, (n, n_cont), minval=-1.0, maxval=1.0)
        return noise(noise_key, n, model.latent_dim), categories, continuous

    def generate(params, state, z, categories, continuous, train):
        codes = jnp.concatenate([z, jax.nn.one_hot(categories, NUM_CLASSES), continuous], -1)
        return apply_net(gen, "gen", params, state, codes, train=train)

    def judge_fakes(params, state, fake, categories, continuous):
        """(D's logits [B], L_I [B], Q's category accuracy, state) of fakes drawn from these codes."""
        (logit, _, body), state = apply_net(disc, "disc", params, state, fake, train=True)
        (cat_logits, cont_mean), state = apply_net(q, "q", params, state, body, train=True)
        mutual_info = losses.info_gan_mutual_information_loss(
            cat_logits, categories, cont_mean, continuous, model.info_continuous_weight
        )
        return logit, mutual_info, jnp.mean(jnp.argmax(cat_logits, -1) == categories), state

    def disc_loss(params, state, batch, key):
        """GAN loss of D + info_weight x L_I of Q on the body's features of the (detached) fakes."""
        z, categories, continuous = draw_codes(key, batch["image"].shape[0])
        fake, state = generate(params, state, z, categories, continuous, train=True)
        (real_logit, _, _), state = apply_net(
            disc, "disc", params, state, to_signed(batch["image"]), train=True
        )
        fake_logit, mutual_info, accuracy, state = judge_fakes(
            params, state, jax.lax.stop_gradient(fake), categories, continuous
        )
        gan = losses.gan_discriminator_loss(real_logit, fake_logit)
        loss = (gan + model.info_weight * mutual_info).mean()
        metrics = {"loss": loss, "mi_loss": mutual_info.mean(), "q_category_accuracy": accuracy}
        return loss, (metrics, state)

    def gen_loss(params, state, batch, key):
        """Non-saturating GAN loss of G + info_weight x L_I of the codes G was given."""
        z, categories, continuous = draw_codes(key, batch["image"].shape[0])
        fake, state = generate(params, state, z, categories, continuous, train=True)
        logit, mutual_info, accuracy, state = judge_fakes(params, state, fake, categories, continuous)
        loss = (losses.gan_generator_loss(logit, model.gan_loss) + model.info_weight * mutual_info).mean()
        return loss, ({"loss": loss, "mi_loss": mutual_info.mean(), "q_category_accuracy": accuracy}, state)

    def sample(params, state, key, n):
        """Images and the codes that drew them ("categories" [n], "continuous" [n, C])."""
        z, categories, continuous = draw_codes(key, n)
        images, _ = generate(params, state, z, categories, continuous, train=False)
        return {"images": from_signed(images), "categories": categories, "continuous": continuous}

    def sweeps(params, state, key, n):
        """'category': row = category, column = noise (continuous codes 0); 'continuous_i': row = category,
        column = c_i from -2 to 2 (beyond the training range (-1, 1), as the paper's figures), one noise."""
        noise_key, one_key = jax.random.split(key)
        rows = jnp.repeat(jnp.arange(NUM_CLASSES), n)
        tables = {}
        z = jnp.tile(noise(noise_key, n, model.latent_dim), (NUM_CLASSES, 1))
        images, _ = generate(params, state, z, rows, jnp.zeros((rows.shape[0], n_cont)), train=False)
        tables["category"] = images
        z_one = jnp.broadcast_to(noise(one_key, 1, model.latent_dim), (rows.shape[0], model.latent_dim))
        values = jnp.tile(jnp.linspace(-2.0, 2.0, n), NUM_CLASSES)
        for i in range(n_cont):
            continuous = jnp.zeros((rows.shape[0], n_cont)).at[:, i].set(values)
            tables[f"continuous_{i + 1}"], _ = generate(params, state, z_one, rows, continuous, train=False)
        return {name: from_signed(x).reshape(NUM_CLASSES, n, *x.shape[1:]) for name, x in tables.items()}

    def q_outputs(params, state, images):
        (_, _, body), _ = apply_net(disc, "disc", params, state, to_signed(images), train=False)
        (cat_logits, cont_mean), _ = apply_net(q, "q", params, state, body, train=False)
        return cat_logits, cont_mean

    def encode(params, state, images):
        """Q's category probabilities and continuous means for images [B, S, S, C] in [0, 1]."""
        cat_logits, cont_mean = q_outputs(params, state, images)
        return jnp.concatenate([jax.nn.softmax(cat_logits), cont_mean], -1)

    def cluster(params, state, images):
        """Q's most likely category [B]: the unsupervised digit clustering."""
        return jnp.argmax(q_outputs(params, state, images)[0], -1)

    return Family(
        networks={"gen": gen, "disc": disc, "q": q},
        example_inputs={
            "gen": gen_input,
            "disc": _image_input(setup),
            "q": (jax.ShapeDtypeStruct((1, body_size), jnp.float32),),
        },
        optimizers={
            "gen": optax.chain(setup.optimizer, optax.scale(model.gen_lr_scale)),
            "disc": setup.optimizer,
            "q": setup.optimizer,
        },
        updates=(Update("disc", ("disc", "q"), disc_loss), Update("gen", ("gen",), gen_loss)),
        can=Abilities(sample=sample, encode=encode, cluster=cluster),
        pictures=Pictures(sweeps=sweeps),
    )


def disc_body_features(width: int, image_shape) -> int:
    """Size of the DCGAN down stack's flattened output for these images."""
    widths = layers.down_widths(width)
    side = image_shape[0] // 2 ** len(widths)
    return side * side * widths[-1]


def cgan_options() -> ml_collections.ConfigDict:
    """The conditional GANs' block (cGAN, ACGAN)."""
    o = options.conv_net(64, 100)
    o.gan_loss = "non_saturating"  # non_saturating | minimax generator loss
    return o


def infogan_options() -> ml_collections.ConfigDict:
    o = cgan_options()
    o.latent_dim = 62  # the paper's MNIST noise, beside the codes
    o.info_continuous = 2  # continuous codes, uniform on (-1, 1), besides the 10-way category
    o.info_weight = 1.0  # weight lambda of the mutual-information loss
    # weight of the continuous codes' term within it, relative to the category's: the paper (section 6) sets
    # it smaller than 1 for continuous codes; the reference code's MNIST run uses 1
    o.info_continuous_weight = 1.0
    # the noise beside the codes: uniform on (-1, 1), as the reference code's (the codes' own range), or
    # normal (3x the variance: the noise then outweighs the one-hot category in G's input)
    o.noise = "uniform"
    # the generator's learning rate over optim.lr: the paper's MNIST setting is 1e-3 for G, 2e-4 for D
    o.gen_lr_scale = 5.0
    # paper: the paper's MNIST networks (Table 1; model.width unused) | dcgan: the DCGAN stacks at model.width
    # (34 +- 5% category error over three seeds, against 16.8 +- 2.9% with the paper's, normal noise)
    o.arch = "paper"
    # slopes of the leaky ReLUs in the paper discriminator's body and in Q's head; the reference code
    # (openai/InfoGAN) uses 0.01 for both
    o.disc_leaky_slope = 0.1
    o.q_leaky_slope = 0.2
    # Q's dense weights: lecun (flax's default, every run so far) | dcgan: N(0, 0.02), the reference code's
    o.q_init = "lecun"
    return o


def _infogan_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    """The paper's generator starts from an (S / 4)^2 map, so it draws S x S images only for S = 4k."""
    if model.arch == "paper" and data.image_size % 4:
        return f"data.image_size={data.image_size} must be a multiple of 4 for model.arch=paper"
    return None


CHOICES = {"gan_loss": losses.GAN_GENERATOR_LOSSES}
MODELS = {
    "cgan": ModelSpec(make_cgan, cgan_options, choices=CHOICES, positive=options.CONV_POSITIVE),
    "acgan": ModelSpec(make_acgan, cgan_options, choices=CHOICES, positive=options.CONV_POSITIVE),
    # the reference code's MNIST schedule: batch 128, 50 epochs of 100 updates
    "infogan": ModelSpec(
        make_infogan,
        infogan_options,
        {"train.batch_size": 128, "train.num_steps": 5000},
        choices={
            **CHOICES,
            "arch": ("dcgan", "paper"),
            "noise": tuple(priors.NOISES),
            "q_init": tuple(Q_INITS),
        },
        positive=(*options.CONV_POSITIVE, "gen_lr_scale"),
        check=_infogan_problem,
        non_negative=(
            "info_continuous",
            "info_weight",
            "info_continuous_weight",
            "disc_leaky_slope",
            "q_leaky_slope",
        ),
    ),
}
