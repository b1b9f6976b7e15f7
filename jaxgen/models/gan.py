"""Unconditional GANs on the DCGAN architecture.

- GAN / DCGAN: Goodfellow et al. 2014 (arXiv:1406.2661); Radford et al. 2015 (arXiv:1511.06434).
- WGAN with weight clipping: Arjovsky et al. 2017 (arXiv:1701.07875) - RMSProp, n_critic = 5, c = 0.01.
- WGAN-GP: Gulrajani et al. 2017 (arXiv:1704.00028) - the gradient penalty (losses.gradient_penalty, one
  interpolation coefficient per example), lambda = model.gp_weight, and a critic without BatchNorm (always:
  the penalty is per example, so the critic must treat examples independently).
- LSGAN: Mao et al. 2017 (arXiv:1611.04076) - least-squares losses with a = 0, b = 1, c = 1.

Generators end in tanh ([-1, 1]); real images are mapped to [-1, 1] with `data.to_signed`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import layers, losses, optim
from jaxgen.data import from_signed, to_signed
from jaxgen.models import options
from jaxgen.models.family import Abilities, Boosted, Family, ModelSpec, Setup, Update, apply_net


class Generator(nn.Module):
    """z [B, latent] -> images [B, S, S, C] in [-1, 1]."""

    widths: Sequence[int]
    out_channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        return jnp.tanh(layers.UpStack(self.widths, self.out_channels, conv=self.conv)(z, train))


class Discriminator(nn.Module):
    """images [B, S, S, C] in [-1, 1] -> one logit / critic score per image [B].

    use_bias=False drops every bias, the final layer's too: with it the WGAN reference code's critic (three
    convs to a 4x4 map, then a 4x4 valid conv to one score, which is a dense layer without bias).
    """

    widths: Sequence[int]
    use_batch_norm: bool = True
    conv: layers.ConvOptions = layers.ConvOptions()
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        stack = layers.DownStack(self.widths, self.use_batch_norm, conv=self.conv, use_bias=self.use_bias)
        h = stack(x, train)
        return nn.Dense(1, use_bias=self.use_bias, kernel_init=layers.dcgan_init)(h)[:, 0]


def adversarial_family(
    setup: Setup,
    width: int,
    latent_dim: int,
    disc_objective: Callable[[jax.Array, jax.Array], jax.Array],
    gen_objective: Callable[[jax.Array], jax.Array],
    n_critic: int | Boosted = 1,
    disc_batch_norm: bool = True,
    disc_optimizer: optax.GradientTransformation | None = None,
    gradient_penalty_weight: float = 0.0,
    disc_convs: int = 4,
    disc_bias: bool = True,
) -> Family:
    """A generator/discriminator pair trained by alternating updates with the given per-example objectives;
    a positive gradient_penalty_weight adds the WGAN-GP penalty to the critic's (and drops its BatchNorm).
    The discriminator has disc_convs stride-2 convs of width, 2 width, ... (biases unless not disc_bias)."""
    size, _, channels = setup.image_shape
    gen = Generator(layers.up_widths(width, size), channels, conv=setup.conv)
    batch_norm = disc_batch_norm and not gradient_penalty_weight
    disc_widths = layers.down_widths(width, disc_convs)
    disc = Discriminator(disc_widths, batch_norm, conv=setup.conv, use_bias=disc_bias)

    def generate(params, state, key, n, train):
        z = jax.random.normal(key, (n, latent_dim))
        return apply_net(gen, "gen", params, state, z, train=train)

    def disc_loss(params, state, batch, key):
        """disc_objective(D(x), D(G(z))) averaged over the batch; x = batch['image'] [B, S, S, C]."""
        gen_key, penalty_key = jax.random.split(key)
        fake, state = generate(params, state, gen_key, batch["image"].shape[0], train=True)
        fake = jax.lax.stop_gradient(fake)
        real = to_signed(batch["image"])
        real_scores, state = apply_net(disc, "disc", params, state, real, train=True)
        fake_scores, state = apply_net(disc, "disc", params, state, fake, train=True)
        objective = disc_objective(real_scores, fake_scores)
        metrics = {"real_score": real_scores.mean(), "fake_score": fake_scores.mean()}
        if gradient_penalty_weight:

            def critic(images):
                return apply_net(disc, "disc", params, state, images, train=True)[0]

            penalty = losses.gradient_penalty(critic, real, fake, penalty_key)
            metrics["gradient_penalty"] = penalty.mean()
            objective = objective + gradient_penalty_weight * penalty
        loss = objective.mean()
        return loss, ({"loss": loss, **metrics}, state)

    def gen_loss(params, state, batch, key):
        """gen_objective(D(G(z))) averaged over a batch of the same size as the real batch."""
        fake, state = generate(params, state, key, batch["image"].shape[0], train=True)
        fake_scores, state = apply_net(disc, "disc", params, state, fake, train=True)
        loss = gen_objective(fake_scores).mean()
        return loss, ({"loss": loss}, state)

    def sample(params, state, key, n):
        images, _ = generate(params, state, key, n, train=False)
        return {"images": from_signed(images)}

    return Family(
        networks={"gen": gen, "disc": disc},
        example_inputs={
            "gen": (jax.ShapeDtypeStruct((1, latent_dim), jnp.float32),),
            "disc": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),),
        },
        optimizers={"gen": setup.optimizer, "disc": disc_optimizer or setup.optimizer},
        updates=(
            Update("disc", ("disc",), disc_loss, repeat=n_critic),
            Update("gen", ("gen",), gen_loss),
        ),
        can=Abilities(sample=sample),
    )


def _family(
    model: ml_collections.ConfigDict, setup: Setup, disc_objective, gen_objective, **options
) -> Family:
    """adversarial_family at the block's sizes and number of critic updates."""
    return adversarial_family(
        setup, model.width, model.latent_dim, disc_objective, gen_objective, model.n_critic, **options
    )


def make_gan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """DCGAN with the minimax or non-saturating generator loss (model.gan_loss)."""
    gen_objective = functools.partial(losses.gan_generator_loss, kind=model.gan_loss)
    batch_norm = model.disc_batch_norm
    return _family(model, setup, losses.gan_discriminator_loss, gen_objective, disc_batch_norm=batch_norm)


def make_wgan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """WGAN: critic params clipped to [-c, c] after each update by an optax transform; the critic is
    trained model.critic_boost times for the first model.boost_first generator steps and every
    model.boost_every-th, model.n_critic times otherwise (the reference code's schedule)."""
    clipped = optax.chain(setup.optimizer, optim.clip_params(model.clip_value))
    objectives = (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss)
    critic = Boosted(model.n_critic, model.critic_boost, model.boost_first, model.boost_every)
    repeat = critic if critic.boost != critic.usual else model.n_critic
    return adversarial_family(
        setup,
        model.width,
        model.latent_dim,
        *objectives,
        repeat,
        model.disc_batch_norm,
        disc_optimizer=clipped,
        disc_convs=model.critic_convs,
        disc_bias=model.critic_bias,
    )


def make_wgan_gp(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """WGAN-GP: Wasserstein losses + model.gp_weight x the per-example gradient penalty; no BatchNorm."""
    objectives = (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss)
    return _family(model, setup, *objectives, gradient_penalty_weight=model.gp_weight)


def make_lsgan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """LSGAN with the paper's 0-1 coding (a = 0, b = 1, c = 1) on the discriminator's raw scores."""
    objectives = (losses.least_squares_discriminator_loss, losses.least_squares_generator_loss)
    return _family(model, setup, *objectives, disc_batch_norm=model.disc_batch_norm)


def _options(**extra) -> ml_collections.ConfigDict:
    o = options.conv_net(64, 100)
    o.n_critic = 1  # discriminator (critic) updates per generator update
    o.disc_batch_norm = True  # BatchNorm in the discriminator
    o.update(extra)
    return o


def gan_options() -> ml_collections.ConfigDict:
    o = _options()
    o.gan_loss = "non_saturating"  # non_saturating | minimax generator loss
    return o


def wgan_options() -> ml_collections.ConfigDict:
    # the reference code's critic: BatchNorm after every conv but the first, every parameter (BatchNorm's
    # scale and offset too) clipped; without BatchNorm the clipped critic was nearly linear and the
    # generator collapsed to one image (configs/wgan.py)
    o = _options(n_critic=5, disc_batch_norm=True)
    o.clip_value = 0.01  # the critic's parameters are clipped to [-c, c] after every update
    # the critic's stride-2 convs: 3 (the reference's: to a 4x4 map at 32x32 images, then a 4x4 conv to the
    # score, i.e. a dense layer) or 4 (the DCGAN stack of the other GANs, to 2x2); and whether its layers
    # have biases (the reference's have none)
    o.critic_convs = 3
    o.critic_bias = False
    # the reference code trains the critic 100 times per generator step for the first 25 generator steps and
    # every 500th, so that it is near its optimum when the generator learns from it (critic_boost = n_critic:
    # no boost)
    o.critic_boost = 100
    o.boost_first = 25
    o.boost_every = 500
    return o


def wgan_gp_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, 100)
    o.n_critic = 5  # critic updates per generator update (the critic never has BatchNorm)
    o.gp_weight = 10.0  # weight lambda of the gradient penalty
    return o


def _critic_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    """Each of the critic's stride-2 convs halves the image: they must leave at least one pixel."""
    if 2**model.critic_convs > data.image_size:
        convs, size = model.critic_convs, data.image_size
        return f"model.critic_convs={convs} halves a {size}-pixel image below one pixel"
    return None


GAN_POSITIVE = (*options.CONV_POSITIVE, "n_critic")
WGAN_SETTINGS = {
    "optim.name": "rmsprop",
    "optim.lr": 5e-5,
    "train.num_steps": 5000,
    "train.eval_every": 500,
    "train.checkpoint_every": 500,
}
WGAN_GP_SETTINGS = {"optim.lr": 1e-4, "optim.b1": 0.0, "optim.b2": 0.9, "train.num_steps": 5000}

MODELS = {
    "gan": ModelSpec(
        make_gan, gan_options, choices={"gan_loss": losses.GAN_GENERATOR_LOSSES}, positive=GAN_POSITIVE
    ),
    "wgan": ModelSpec(
        make_wgan,
        wgan_options,
        WGAN_SETTINGS,
        positive=(*GAN_POSITIVE, "clip_value", "critic_boost", "boost_every", "critic_convs"),
        non_negative=("boost_first",),
        check=_critic_problem,
    ),
    "wgan_gp": ModelSpec(
        make_wgan_gp, wgan_gp_options, WGAN_GP_SETTINGS, positive=GAN_POSITIVE, non_negative=("gp_weight",)
    ),
    "lsgan": ModelSpec(make_lsgan, _options, {"train.num_steps": 5000}, positive=GAN_POSITIVE),
}
