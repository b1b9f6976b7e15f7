"""GANs whose discriminator is an autoencoder: its reconstruction error is the score.

- EBGAN: Zhao, Mathieu, LeCun 2016 (arXiv:1609.03126). The energy of an image is its per-pixel mean
  squared reconstruction error; D minimises E(x) + max(0, m - E(G(z))) (losses.ebgan_discriminator_loss),
  G minimises E(G(z)) + model.pt_weight x the pulling-away term on D's codes of the fake batch.
- BEGAN: Berthelot, Schumm, Metz 2017 (arXiv:1703.10717). L(v) = mean |v - D(v)|; D minimises
  L(x) - k_t L(G(z)), G minimises L(G(z)), and k_t (state["extras"]["k"], starting at model.began_k0, the
  paper's 0) follows the proportional control of losses.began_k_update, clipped to [0, 1]; M_global is
  logged every step. model.arch="paper": the paper's networks (Fig. 1: 3x3 convs, ELU, no BatchNorm,
  stride-2 sub-sampling, nearest-neighbour up-sampling, linear outputs); "dcgan": the DCGAN stacks without
  BatchNorm in the discriminator.

The PyTorch zoos shipped both as copies of the plain GAN (a binary classifier); here D is an autoencoder
and no sigmoid / cross-entropy appears. Images are mapped to [-1, 1], as for every GAN.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.data import from_signed, to_signed
from jaxgen.models import options, priors
from jaxgen.models.conditional_gan import PaperInfoGenerator
from jaxgen.models.family import Abilities, Family, ModelSpec, Setup, Update, apply_net
from jaxgen.models.gan import Generator


class AutoencoderDiscriminator(nn.Module):
    """images [B, S, S, C] in [-1, 1] -> (reconstructions [B, S, S, C], codes [B, code_dim]).

    The reconstruction is linear, not tanh-squashed: a tanh output saturated at -1 within a few hundred
    BEGAN steps (real L1 frozen at 0.1998 = the error of a blank image, zero gradient; experiments/README.md).
    Without BatchNorm the layers start from He-normal weights: the DCGAN init (std 0.02) shrinks the signal
    through 9 layers, and the autoencoder did not learn to reconstruct (real L1 stayed above 0.2).
    """

    down: Sequence[int]
    up: Sequence[int]
    code_dim: int
    channels: int = 1
    use_batch_norm: bool = True
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        init = layers.dcgan_init if self.use_batch_norm else nn.initializers.he_normal()
        h = layers.DownStack(self.down, self.use_batch_norm, conv=self.conv, kernel_init=init)(x, train)
        code = nn.Dense(self.code_dim, kernel_init=init)(h)
        up = layers.UpStack(
            self.up, self.channels, conv=self.conv, use_batch_norm=self.use_batch_norm, kernel_init=init
        )
        return up(code, train), code


# The paper's networks (Fig. 1) start at an 8x8 map; glorot weights, as the authors' TensorFlow layers.
PAPER_INIT = nn.initializers.glorot_uniform()


class PaperDecoder(nn.Module):
    """BEGAN's decoder, and its generator (paper Fig. 1): [B, h or z] -> [B, S, S, C], linear output.

    A dense layer to an 8x8 map h0 of `filters` channels, then at each scale two 3x3 convs with ELU, and
    nearest-neighbour up-sampling by 2 until the image size; a last 3x3 conv writes the channels. With
    `skip` (the paper's skip connections), h0 up-sampled to each later scale is concatenated
    to that scale's input, so every scale reads the embedding directly.
    """

    filters: int
    image_size: int
    channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()
    skip: bool = False

    @nn.compact
    def __call__(self, h: jax.Array, train: bool = True) -> jax.Array:
        del train  # no BatchNorm, no dropout
        n = self.filters
        h0 = nn.Dense(8 * 8 * n, kernel_init=PAPER_INIT)(h).reshape(h.shape[0], 8, 8, n)
        x, size = h0, 8
        while True:
            for _ in range(2):
                x = nn.elu(_conv3(n, 1, self.conv)(x))
            if size >= self.image_size:
                break
            x = layers.upsample_nearest(x, 2)
            size *= 2
            if self.skip:
                x = jnp.concatenate([x, layers.upsample_nearest(h0, size // 8)], axis=-1)
        return _conv3(self.channels, 1, self.conv)(x)


class PaperEncoder(nn.Module):
    """BEGAN's encoder (paper Fig. 1): [B, S, S, C] -> [B, h], linear embedding.

    A 3x3 conv of `filters` channels, then at each scale two 3x3 convs with ELU and a stride-2 3x3 conv
    that sub-samples and widens by `filters` (n, 2n, 3n, ...), down to 8x8; a dense layer to h.
    """

    filters: int
    code_dim: int
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train
        n = self.filters
        x = nn.elu(_conv3(n, 1, self.conv)(x))
        width = n
        while True:
            for _ in range(2):
                x = nn.elu(_conv3(width, 1, self.conv)(x))
            if x.shape[1] <= 8:
                break
            width += n
            x = nn.elu(_conv3(width, 2, self.conv)(x))
        return nn.Dense(self.code_dim, kernel_init=PAPER_INIT)(x.reshape(x.shape[0], -1))


def _conv3(features: int, stride: int, conv: layers.ConvOptions) -> layers.Conv:
    return layers.Conv(features, 3, stride, 1, conv=conv, kernel_init=PAPER_INIT)


class PaperAutoencoderDiscriminator(nn.Module):
    """images [B, S, S, C] -> (reconstructions, codes [B, code_dim]): PaperEncoder then PaperDecoder."""

    filters: int
    image_size: int
    code_dim: int
    channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()
    skip: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        code = PaperEncoder(self.filters, self.code_dim, self.conv)(x)
        decoder = PaperDecoder(self.filters, self.image_size, self.channels, self.conv, self.skip)
        return decoder(code), code


class SmallAutoencoderDiscriminator(nn.Module):
    """images [B, S, S, C] -> (reconstructions, codes [B, code_dim]): the small MNIST BEGAN discriminator of
    znxlwm's pytorch-generative-model-collections (one of the playgrounds): conv 64 k4 s2 + ReLU, a linear
    code, a linear layer back to the half-size 64-channel map and a transposed conv out; N(0, 0.02) weights.
    """

    code_dim: int
    channels: int = 1
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True):
        side = x.shape[1] // 2
        h = nn.relu(layers.Conv(64, conv=self.conv)(x)).reshape(x.shape[0], -1)
        code = nn.Dense(self.code_dim, kernel_init=layers.dcgan_init)(h)
        h = nn.Dense(side * side * 64, kernel_init=layers.dcgan_init)(code).reshape(
            x.shape[0], side, side, 64
        )
        return layers.Conv(self.channels, transpose=True, conv=self.conv)(h), code


def _networks(
    model: ml_collections.ConfigDict,
    setup: Setup,
    use_batch_norm: bool,
    arch: str = "dcgan",
    noise: str = "normal",
    skip: bool = False,
):
    """(generator, autoencoder discriminator, generate, sample, example inputs) of `arch`: paper | dcgan |
    small (the InfoGAN paper's generator, SmallAutoencoderDiscriminator), the generator drawing its input
    from priors.NOISES[noise]; `skip`: the paper networks' skip connections."""
    size, _, channels = setup.image_shape
    if arch == "small":
        gen = PaperInfoGenerator(setup.image_shape, setup.conv)
        disc = SmallAutoencoderDiscriminator(model.disc_code_dim, channels, setup.conv)
    elif arch == "paper":
        gen = PaperDecoder(model.width, size, channels, setup.conv, skip)  # the generator: same shape
        disc = PaperAutoencoderDiscriminator(
            model.width, size, model.disc_code_dim, channels, setup.conv, skip
        )
    else:
        gen = Generator(layers.up_widths(model.width, size), channels, conv=setup.conv)
        disc = AutoencoderDiscriminator(
            layers.down_widths(model.width),
            layers.up_widths(model.width, size),
            model.disc_code_dim,
            channels,
            use_batch_norm,
            setup.conv,
        )
    latent, draw = model.latent_dim, priors.NOISES[noise]

    def generate(params, state, key, n, train):
        z = draw(key, n, latent)
        return apply_net(gen, "gen", params, state, z, train=train)

    def sample(params, state, key, n):
        images, _ = generate(params, state, key, n, train=False)
        return {"images": jnp.clip(from_signed(images), 0.0, 1.0)}  # the paper's generator is linear

    example_inputs = {
        "gen": (jax.ShapeDtypeStruct((1, latent), jnp.float32),),
        "disc": (jax.ShapeDtypeStruct((1, *setup.image_shape), jnp.float32),),
    }
    return gen, disc, generate, sample, example_inputs


def _family(gen, disc, sample, example_inputs, setup: Setup, disc_loss, gen_loss, **extra) -> Family:
    """D's update, then G's, one optimizer each."""
    return Family(
        networks={"gen": gen, "disc": disc},
        example_inputs=example_inputs,
        optimizers={"gen": setup.optimizer, "disc": setup.optimizer},
        updates=(Update("disc", ("disc",), disc_loss), Update("gen", ("gen",), gen_loss)),
        can=Abilities(sample=sample),
        **extra,
    )


def _reconstruction_errors(disc, params, state, images, kind: str):
    """Per-example reconstruction error [B] of D on images, D's codes [B, code_dim] and the new state."""
    (recon, codes), state = apply_net(disc, "disc", params, state, images, train=True)
    return losses.reconstruction_loss(recon, images, kind), codes, state


def make_ebgan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """EBGAN with the margin loss and the pulling-away term (model.ebgan_margin, model.pt_weight)."""
    gen, disc, generate, sample, example_inputs = _networks(model, setup, model.disc_batch_norm)

    def disc_loss(params, state, batch, key):
        """E(x) + max(0, m - E(G(z))) averaged over the batch."""
        fake, state = generate(params, state, key, batch["image"].shape[0], train=True)
        real_energy, _, state = _reconstruction_errors(disc, params, state, to_signed(batch["image"]), "mse")
        fake_energy, _, state = _reconstruction_errors(
            disc, params, state, jax.lax.stop_gradient(fake), "mse"
        )
        loss = losses.ebgan_discriminator_loss(real_energy, fake_energy, model.ebgan_margin).mean()
        metrics = {"real_energy": real_energy.mean(), "fake_energy": fake_energy.mean()}
        return loss, ({"loss": loss, **metrics}, state)

    def gen_loss(params, state, batch, key):
        """E(G(z)) + pt_weight x PT(D's codes of G(z))."""
        fake, state = generate(params, state, key, batch["image"].shape[0], train=True)
        energy, codes, state = _reconstruction_errors(disc, params, state, fake, "mse")
        pulling_away = losses.pulling_away_term(codes)
        loss = energy.mean() + model.pt_weight * pulling_away
        return loss, ({"loss": loss, "pulling_away": pulling_away}, state)

    return _family(gen, disc, sample, example_inputs, setup, disc_loss, gen_loss)


def make_began(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """BEGAN with the equilibrium control k_t (model.began_gamma, model.began_lambda_k); no BatchNorm in
    the discriminator (arch=small's generator, the InfoGAN paper's, has it)."""
    gen, disc, generate, sample, example_inputs = _networks(
        model, setup, False, model.arch, model.noise, model.began_skip
    )

    def disc_loss(params, state, batch, key):
        """L(x) - k_t L(G(z)); then k_{t+1} from this batch's losses (stored in the returned state)."""
        fake, state = generate(params, state, key, batch["image"].shape[0], train=True)
        real_error, _, state = _reconstruction_errors(disc, params, state, to_signed(batch["image"]), "l1")
        fake_error, _, state = _reconstruction_errors(disc, params, state, jax.lax.stop_gradient(fake), "l1")
        k = state["extras"]["k"]
        real_loss, fake_loss = real_error.mean(), fake_error.mean()
        loss = real_loss - k * fake_loss
        new_k, convergence = losses.began_k_update(
            k,
            jax.lax.stop_gradient(real_loss),
            jax.lax.stop_gradient(fake_loss),
            model.began_gamma,
            model.began_lambda_k,
        )
        state = {**state, "extras": {**state["extras"], "k": new_k}}
        metrics = {"real_l1": real_loss, "fake_l1": fake_loss, "k": k, "M_global": convergence}
        return loss, ({"loss": loss, **metrics}, state)

    def gen_loss(params, state, batch, key):
        """L(G(z))."""
        fake, state = generate(params, state, key, batch["image"].shape[0], train=True)
        error, _, state = _reconstruction_errors(disc, params, state, fake, "l1")
        loss = error.mean()
        return loss, ({"loss": loss}, state)

    extras = {"k": jnp.asarray(model.began_k0, jnp.float32)}
    return _family(gen, disc, sample, example_inputs, setup, disc_loss, gen_loss, extras=extras)


def ebgan_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, 100)
    o.disc_code_dim = 64  # code size of the autoencoder discriminator
    o.disc_batch_norm = True  # BatchNorm in the autoencoder discriminator
    o.ebgan_margin = 1.0  # margin m of the discriminator's hinge on fake energies (MSE units)
    o.pt_weight = 0.1  # weight of the pulling-away term in the generator loss (0 = off)
    return o


def began_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, 64)
    # paper: 3x3 convs, ELU, nearest up-sampling (Fig. 1); dcgan: the DCGAN stacks; small: znxlwm's MNIST
    # BEGAN (the InfoGAN generator, a one-conv discriminator with a linear code; model.width unused)
    o.arch = "paper"
    o.disc_code_dim = 64  # h, the embedding of the autoencoder discriminator (no BatchNorm: the paper's)
    o.began_gamma = 0.5  # diversity ratio gamma = E L(G(z)) / E L(x) at equilibrium (the paper's 0.5)
    o.began_lambda_k = 0.001  # learning rate of the control variable k
    o.began_k0 = 0.0  # k at step 0, in [0, 1] (the paper's 0: D ignores the fakes until k grows)
    o.noise = "uniform"  # the generator's z: uniform on (-1, 1) as the paper's | normal (N(0, I))
    # arch=paper: the paper's skip connections (h0 up-sampled and concatenated at every decoder scale, in
    # the generator and the discriminator's decoder); off = its plain Fig. 1 networks
    o.began_skip = False
    return o


def _check_began(model: ml_collections.ConfigDict, data) -> str | None:
    if model.began_k0 > 1:
        return "model.began_k0 must be at most 1"
    if model.began_skip and model.arch != "paper":
        return f"model.began_skip=True needs model.arch='paper' (its networks' skips), not {model.arch!r}"
    return None


POSITIVE = (*options.CONV_POSITIVE, "disc_code_dim")
MODELS = {
    "ebgan": ModelSpec(
        make_ebgan, ebgan_options, positive=POSITIVE, non_negative=("ebgan_margin", "pt_weight")
    ),
    # the paper's Adam 1e-4 and batch 16 (its decay when M_global stalls: optim.schedule=halving)
    "began": ModelSpec(
        make_began,
        began_options,
        {"optim.lr": 1e-4, "train.batch_size": 16},
        choices={"arch": ("paper", "dcgan", "small"), "noise": tuple(priors.NOISES)},
        positive=POSITIVE,
        non_negative=("began_gamma", "began_lambda_k", "began_k0"),
        check=_check_began,
    ),
}
