"""Two digit domains (data.domain_a, data.domain_b): translation between them, and their joint generation.

- pix2pix: Isola et al. 2017 (arXiv:1611.07004) - paired: a U-Net generator with skip connections, a
  PatchGAN discriminator that judges (input, output) pairs patch by patch, the GAN loss plus lambda x L1
  to the true target (lambda = 100), D's objective halved. model.gan_weight = 0 is the paper's L1-only
  baseline (no discriminator at all), so the GAN's contribution can be measured.
- CycleGAN: Zhu et al. 2017 (arXiv:1703.10593) - unpaired: generators A->B and B->A (ResNet: c7s1, two
  down-sampling convs, residual blocks, two up-sampling convs, c7s1, instance norm, reflection padding),
  PatchGAN discriminators per domain, least-squares GAN losses, cycle loss lambda = 10 and identity loss
  0.5 lambda; the generators are updated first, then the discriminators on the new fakes, drawn through
  the paper's history pool (model.pool_size = 50 past fakes per domain, Shrivastava et al. 2017).
- CoGAN: Liu & Tuzel 2016 (arXiv:1606.07536) - unpaired: two generators that share every layer but the
  last (so one noise vector draws the same digit in both domains), two discriminators that share every
  layer but the first; the DCGAN networks and losses (tanh generators, non-saturating GAN loss).

At 32x32 the networks are the papers' shapes scaled to the image: the U-Net goes down to 1x1 in five
steps, the PatchGAN sees 16x16 patches (model.patch_downsamples = 1; the paper's 70x70 of a 256x256 image
would cover a whole digit), and down/up-sampling uses the k4 s2 p1 convolutions of the DCGAN layers.
Generators end in a sigmoid (images in [0, 1]); discriminators read images mapped to [-1, 1].
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import layers, losses
from jaxgen.data import from_signed, to_signed
from jaxgen.data.domains import output_shape
from jaxgen.models import gan, options
from jaxgen.models.family import Abilities, Family, ModelSpec, Setup, Update, apply_net

DROPOUT = "dropout"  # the rng stream of the U-Net's dropout


def instance_norm() -> nn.InstanceNorm:
    """Per-image, per-channel normalisation without affine parameters (PyTorch's InstanceNorm2d default)."""
    return nn.InstanceNorm(use_scale=False, use_bias=False, epsilon=1e-5)


def reflect_pad(x: jax.Array, n: int) -> jax.Array:
    return jnp.pad(x, ((0, 0), (n, n), (n, n), (0, 0)), mode="reflect")


class UNet(nn.Module):
    """pix2pix's generator: images [B, S, S, C] in [0, 1] -> [B, S, S, out_channels] in [0, 1].

    Encoder: k4 s2 convs down to 1x1 (LeakyReLU 0.2 before each but the first, BatchNorm after each but the
    first and the innermost); decoder: ReLU, transposed conv, BatchNorm, each output concatenated with the
    encoder map of its size; dropout 0.5 on the `dropout_layers` innermost decoder layers (the paper's
    noise source; evaluation runs without it)."""

    widths: tuple[int, ...]
    out_channels: int
    dropout_layers: int = 2
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        skips, h, last = [], x, len(self.widths) - 1
        for i, width in enumerate(self.widths):
            normalised = 0 < i < last
            h = h if i == 0 else nn.leaky_relu(h, 0.2)
            h = layers.Conv(width, use_bias=not normalised, conv=self.conv)(h)
            h = layers.batch_norm(train)(h) if normalised else h
            skips.append(h)
        for i, (width, skip) in enumerate(zip(self.widths[-2::-1], skips[-2::-1], strict=True)):
            h = layers.Conv(width, transpose=True, use_bias=False, conv=self.conv)(nn.relu(h))
            h = layers.batch_norm(train)(h)
            if i < self.dropout_layers:
                h = nn.Dropout(0.5, deterministic=not train, rng_collection=DROPOUT)(h)
            h = jnp.concatenate([h, skip], axis=-1)
        out = layers.Conv(self.out_channels, transpose=True, conv=self.conv)(nn.relu(h))
        return jax.nn.sigmoid(out)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator: c7s1-w, d2w, d4w, `blocks` residual blocks of 4w, u2w, uw, c7s1-C, sigmoid."""

    width: int
    out_channels: int
    blocks: int = 6
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train  # instance norm: the same computation in training and evaluation
        w, conv = self.width, self.conv

        def conv_norm_relu(h, features, **kw):
            return nn.relu(instance_norm()(layers.Conv(features, use_bias=False, conv=conv, **kw)(h)))

        h = conv_norm_relu(reflect_pad(x, 3), w, kernel_size=7, stride=1, padding=0)
        h = conv_norm_relu(h, 2 * w)
        h = conv_norm_relu(h, 4 * w)
        for _ in range(self.blocks):
            r = conv_norm_relu(reflect_pad(h, 1), 4 * w, kernel_size=3, stride=1, padding=0)
            r = layers.Conv(4 * w, kernel_size=3, stride=1, padding=0, use_bias=False, conv=conv)(
                reflect_pad(r, 1)
            )
            h = h + instance_norm()(r)
        h = conv_norm_relu(h, 2 * w, transpose=True)
        h = conv_norm_relu(h, w, transpose=True)
        out = layers.Conv(self.out_channels, kernel_size=7, stride=1, padding=0, conv=conv)(reflect_pad(h, 3))
        return jax.nn.sigmoid(out)


class PatchDiscriminator(nn.Module):
    """PatchGAN: images [B, S, S, C] in [-1, 1] -> one logit per patch [B, P, P].

    `downsamples` k4 s2 convs (the first without normalisation), one k4 s1 conv, then a k4 s1 conv to one
    channel; LeakyReLU 0.2. norm: 'batch' (pix2pix) or 'instance' (CycleGAN)."""

    width: int
    downsamples: int = 1
    norm: str = "batch"
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        def normalise(h):
            return layers.batch_norm(train)(h) if self.norm == "batch" else instance_norm()(h)

        h = nn.leaky_relu(layers.Conv(self.width, conv=self.conv)(x), 0.2)
        for i in range(1, self.downsamples + 1):
            stride = 2 if i < self.downsamples else 1
            conv = layers.Conv(self.width * 2**i, stride=stride, use_bias=False, conv=self.conv)
            h = nn.leaky_relu(normalise(conv(h)), 0.2)
        return layers.Conv(1, stride=1, conv=self.conv)(h)[..., 0]


def patch_discriminator(model: ml_collections.ConfigDict, setup: Setup, norm: str) -> PatchDiscriminator:
    return PatchDiscriminator(model.width, model.patch_downsamples, norm, conv=setup.conv)


def pixel_l1(x: jax.Array, y: jax.Array) -> jax.Array:
    """Per-example mean absolute pixel error [B] (jaxgen.losses' 'l1' reconstruction error)."""
    return losses.reconstruction_loss(x, y, "l1")


def per_patch(loss, *scores: jax.Array) -> jax.Array:
    """A per-example GAN loss of jaxgen.losses applied to every patch of PatchGAN scores [B, P, P], then
    averaged over each image's patches -> [B]."""
    per_patch_losses = loss(*(s.reshape(-1) for s in scores))
    return per_patch_losses.reshape(scores[0].shape[0], -1).mean(axis=1)


def squared_error_to(scores: jax.Array, target: float) -> jax.Array:
    """Per-example mean of (score - target)^2 over the patches [B]: CycleGAN's least-squares terms."""
    return jnp.mean(jnp.square(scores - target), axis=(1, 2))


# ----------------------------------------------------------------------------------------- pix2pix


def make_pix2pix(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """pix2pix on paired data: gen (U-Net A -> B) and, unless model.gan_weight = 0, disc (PatchGAN on the
    channel-concatenated pair)."""
    size, _, channels_b = setup.image_shape_b
    channels_a = setup.image_shape[-1]
    n_down = (size - 1).bit_length()  # down to 1x1
    widths = tuple(model.width * min(2**i, 8) for i in range(n_down))
    gen = UNet(widths, channels_b, model.dropout_layers, conv=setup.conv)
    disc = patch_discriminator(model, setup, "batch")
    adversarial = model.gan_weight > 0

    def translate_train(params, state, images, key):
        return apply_net(gen, "gen", params, state, images, train=True, rngs={DROPOUT: key})

    def pair(a, b):
        return jnp.concatenate([to_signed(a), to_signed(b)], axis=-1)

    def disc_loss(params, state, batch, key):
        """(BCE(D(a, b), 1) + BCE(D(a, G(a)), 0)) / 2, mean over patches and batch."""
        fake, state = translate_train(params, state, batch["image"], key)
        fake = jax.lax.stop_gradient(fake)
        real_logits, state = apply_net(
            disc, "disc", params, state, pair(batch["image"], batch["image_b"]), train=True
        )
        fake_logits, state = apply_net(disc, "disc", params, state, pair(batch["image"], fake), train=True)
        loss = 0.5 * per_patch(losses.gan_discriminator_loss, real_logits, fake_logits).mean()
        accuracy = 0.5 * (jnp.mean(real_logits > 0) + jnp.mean(fake_logits < 0))
        return loss, ({"loss": loss, "patch_accuracy": accuracy}, state)

    def gen_loss(params, state, batch, key):
        """gan_weight x BCE(D(a, G(a)), 1) + l1_weight x |G(a) - b|, batch mean."""
        fake, state = translate_train(params, state, batch["image"], key)
        l1 = pixel_l1(fake, batch["image_b"]).mean()
        loss, metrics = model.l1_weight * l1, {"l1": l1}
        if adversarial:
            logits, state = apply_net(disc, "disc", params, state, pair(batch["image"], fake), train=True)
            gan = per_patch(losses.gan_generator_loss, logits).mean()
            loss, metrics = loss + model.gan_weight * gan, {**metrics, "gan": gan}
        return loss, ({"loss": loss, **metrics}, state)

    def translate(params, state, images):
        return apply_net(gen, "gen", params, state, images, train=False)[0]

    def evaluate(params, state, batch):
        return {"l1": pixel_l1(translate(params, state, batch["image"]), batch["image_b"])}

    networks = {"gen": gen, **({"disc": disc} if adversarial else {})}
    image_a = jax.ShapeDtypeStruct((1, size, size, channels_a), jnp.float32)
    pair_shape = jax.ShapeDtypeStruct((1, size, size, channels_a + channels_b), jnp.float32)
    updates = (Update("disc", ("disc",), disc_loss),) if adversarial else ()
    return Family(
        networks=networks,
        example_inputs={"gen": (image_a,), "disc": (pair_shape,)},
        optimizers={name: setup.optimizer for name in networks},
        updates=(*updates, Update("gen", ("gen",), gen_loss)),
        data="paired_domains",
        can=Abilities(translate=translate, evaluate=evaluate),
    )


# ----------------------------------------------------------------------------------------- CycleGAN


def pool_query(pool: jax.Array, filled: jax.Array, fakes: jax.Array, key: jax.Array):
    """The image pool of Shrivastava et al. 2017 that CycleGAN's discriminators read from, so they are
    judged against the generator's recent history and not only its latest move: fake by fake, while the
    pool has room the fake is stored and passed on; once full, half the time a stored older fake is passed
    on instead and the new one takes its place. Returns (pool, filled, the fakes the discriminator sees)."""
    size = pool.shape[0]

    def one(carry, inputs):
        pool, filled = carry
        fake, fake_key = inputs
        coin_key, index_key = jax.random.split(fake_key)
        full = filled >= size
        swap = full & jax.random.bernoulli(coin_key)
        index = jnp.where(full, jax.random.randint(index_key, (), 0, size), jnp.minimum(filled, size - 1))
        stored = pool[index]
        pool = pool.at[index].set(jnp.where(swap | ~full, fake, stored))
        return (pool, jnp.minimum(filled + 1, size)), jnp.where(swap, stored, fake)

    keys = jax.random.split(key, fakes.shape[0])
    (pool, filled), seen = jax.lax.scan(one, (pool, filled), (fakes, keys))
    return pool, filled, seen


def make_cyclegan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """CycleGAN on unpaired data: gen_ab, gen_ba (ResNet generators), disc_a, disc_b (PatchGANs)."""
    channels_a, channels_b = setup.image_shape[-1], setup.image_shape_b[-1]
    gen_ab = ResnetGenerator(model.width, channels_b, model.res_blocks, conv=setup.conv)
    gen_ba = ResnetGenerator(model.width, channels_a, model.res_blocks, conv=setup.conv)
    disc = patch_discriminator(model, setup, "instance")
    nets = {"gen_ab": gen_ab, "gen_ba": gen_ba, "disc_a": disc, "disc_b": disc}

    def run(name, params, state, images):
        return apply_net(nets[name], name, params, state, images, train=True)[0]

    def gen_loss(params, state, batch, key):
        """(D(G(x)) - 1)^2 both ways + cycle_weight x |F(G(a)) - a| + |G(F(b)) - b| + identity_weight x
        (|G(b) - b| + |F(a) - a|), batch mean."""
        del key
        a, b = batch["image"], batch["image_b"]
        fake_b, fake_a = run("gen_ab", params, state, a), run("gen_ba", params, state, b)
        gan_ab = squared_error_to(run("disc_b", params, state, to_signed(fake_b)), 1.0)
        gan_ba = squared_error_to(run("disc_a", params, state, to_signed(fake_a)), 1.0)
        cycle = pixel_l1(run("gen_ba", params, state, fake_b), a) + pixel_l1(
            run("gen_ab", params, state, fake_a), b
        )
        metrics = {"gan_ab": gan_ab.mean(), "gan_ba": gan_ba.mean(), "cycle_l1": cycle.mean()}
        loss = gan_ab + gan_ba + model.cycle_weight * cycle
        if model.identity_weight:
            identity = pixel_l1(run("gen_ab", params, state, b), b) + pixel_l1(
                run("gen_ba", params, state, a), a
            )
            loss, metrics["identity_l1"] = loss + model.identity_weight * identity, identity.mean()
        return loss.mean(), ({"loss": loss.mean(), **metrics}, state)

    def disc_loss(params, state, batch, key):
        """0.5 x ((D(real) - 1)^2 + D(fake)^2) per domain, on fakes of the current generators passed
        through each domain's history pool (model.pool_size > 0; 0: the current fakes as they are)."""
        a, b = batch["image"], batch["image_b"]
        fake_b = jax.lax.stop_gradient(run("gen_ab", params, state, a))
        fake_a = jax.lax.stop_gradient(run("gen_ba", params, state, b))
        if model.pool_size:
            extras, key_a, key_b = state["extras"], *jax.random.split(key)
            pool_a, _, fake_a = pool_query(extras["pool_a"], extras["pool_filled"], fake_a, key_a)
            pool_b, filled, fake_b = pool_query(extras["pool_b"], extras["pool_filled"], fake_b, key_b)
            state = {**state, "extras": {"pool_a": pool_a, "pool_b": pool_b, "pool_filled": filled}}
        out = {}
        for domain, real, fake in (("a", a, fake_a), ("b", b, fake_b)):
            name = f"disc_{domain}"
            real_scores = run(name, params, state, to_signed(real))
            fake_scores = run(name, params, state, to_signed(fake))
            objective = squared_error_to(real_scores, 1.0) + squared_error_to(fake_scores, 0.0)
            out[domain] = 0.5 * objective.mean()
        loss = out["a"] + out["b"]
        return loss, ({"loss": loss, "loss_a": out["a"], "loss_b": out["b"]}, state)

    def translate(params, state, images):
        return apply_net(gen_ab, "gen_ab", params, state, images, train=False)[0]

    def translate_back(params, state, images):
        return apply_net(gen_ba, "gen_ba", params, state, images, train=False)[0]

    def evaluate(params, state, batch):
        """L1 to the true transform both ways and the cycle errors, per test image."""
        a, b = batch["image"], batch["image_b"]
        fake_b, fake_a = translate(params, state, a), translate_back(params, state, b)
        return {
            "l1_ab": pixel_l1(fake_b, b),
            "l1_ba": pixel_l1(fake_a, a),
            "cycle_l1_aba": pixel_l1(translate_back(params, state, fake_b), a),
            "cycle_l1_bab": pixel_l1(translate(params, state, fake_a), b),
        }

    def image(shape):
        return (jax.ShapeDtypeStruct((1, *shape), jnp.float32),)

    pools = {}
    if model.pool_size:
        pools = {
            "pool_a": jnp.zeros((model.pool_size, *setup.image_shape), jnp.float32),
            "pool_b": jnp.zeros((model.pool_size, *setup.image_shape_b), jnp.float32),
            "pool_filled": jnp.zeros((), jnp.int32),
        }
    return Family(
        networks=nets,
        example_inputs={
            "gen_ab": image(setup.image_shape),
            "gen_ba": image(setup.image_shape_b),
            "disc_a": image(setup.image_shape),
            "disc_b": image(setup.image_shape_b),
        },
        optimizers={name: setup.optimizer for name in nets},
        updates=(
            Update("gen", ("gen_ab", "gen_ba"), gen_loss),
            Update("disc", ("disc_a", "disc_b"), disc_loss),
        ),
        data="unpaired_domains",
        extras=pools,
        can=Abilities(translate=translate, translate_back=translate_back, evaluate=evaluate),
    )


# ----------------------------------------------------------------------------------------- CoGAN


class CoupledGenerator(nn.Module):
    """z [B, latent] -> (images of domain A, images of domain B) in [-1, 1]: the DCGAN up stack (dense to
    4x4, transposed convs with BatchNorm and ReLU) shared up to its output layer; one output layer
    (transposed conv + tanh) per domain."""

    widths: tuple[int, ...]
    channels: tuple[int, int]
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> tuple[jax.Array, jax.Array]:
        init = layers.dcgan_init
        h = layers.UpStack(self.widths, out_channels=0, conv=self.conv)(z, train)  # the shared trunk
        a, b = (
            jnp.tanh(layers.Conv(c, transpose=True, conv=self.conv, kernel_init=init, name=f"out_{d}")(h))
            for c, d in zip(self.channels, "ab", strict=True)
        )
        return a, b


def _first_convs(x_a: jax.Array, x_b: jax.Array, width: int, conv: layers.ConvOptions) -> list[jax.Array]:
    """The per-domain first layers of a coupled discriminator (k4 s2 conv `in_a` / `in_b`, LeakyReLU 0.2),
    called inside its compact __call__ so their params sit in its tree."""
    return [
        nn.leaky_relu(layers.Conv(width, conv=conv, kernel_init=layers.dcgan_init, name=f"in_{d}")(x), 0.2)
        for x, d in ((x_a, "a"), (x_b, "b"))
    ]


class CoupledDiscriminator(nn.Module):
    """(images of A, images of B) in [-1, 1] -> (logits [B], logits [B]): one first conv per domain, then
    the rest of the DCGAN down stack and the dense head, shared (run on both domains' features at once)."""

    widths: tuple[int, ...]
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x_a: jax.Array, x_b: jax.Array, train: bool = True) -> tuple[jax.Array, jax.Array]:
        init = layers.dcgan_init
        firsts = _first_convs(x_a, x_b, self.widths[0], self.conv)
        h = jnp.concatenate(firsts)
        for width in self.widths[1:]:
            h = layers.Conv(width, use_bias=False, conv=self.conv, kernel_init=init)(h)
            h = nn.leaky_relu(layers.batch_norm(train)(h), 0.2)
        logits = nn.Dense(1, kernel_init=init)(h.reshape(h.shape[0], -1))[:, 0]
        return logits[: x_a.shape[0]], logits[x_a.shape[0] :]


def make_cogan(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """CoGAN on unpaired data: gen (coupled generators), disc (coupled discriminators)."""
    size, _, channels_a = setup.image_shape
    channels_b = setup.image_shape_b[-1]
    gen = CoupledGenerator(layers.up_widths(model.width, size), (channels_a, channels_b), conv=setup.conv)
    disc = CoupledDiscriminator(layers.down_widths(model.width), conv=setup.conv)

    def generate(params, state, key, n, train):
        z = jax.random.normal(key, (n, model.latent_dim))
        return apply_net(gen, "gen", params, state, z, train=train)

    def disc_loss(params, state, batch, key):
        """GAN discriminator loss in each domain, summed: reals are the batch's A and B images (from
        different halves of the data), fakes a pair from one noise batch."""
        n = batch["image"].shape[0]
        fakes, state = generate(params, state, key, n, train=True)
        fake_a, fake_b = jax.lax.stop_gradient(fakes)
        real = (to_signed(batch["image"]), to_signed(batch["image_b"]))
        (real_a, real_b), state = apply_net(disc, "disc", params, state, *real, train=True)
        (fake_a, fake_b), state = apply_net(disc, "disc", params, state, fake_a, fake_b, train=True)
        loss_a = losses.gan_discriminator_loss(real_a, fake_a).mean()
        loss_b = losses.gan_discriminator_loss(real_b, fake_b).mean()
        return loss_a + loss_b, ({"loss": loss_a + loss_b, "loss_a": loss_a, "loss_b": loss_b}, state)

    def gen_loss(params, state, batch, key):
        """Non-saturating GAN loss of both generated domains, summed."""
        (fake_a, fake_b), state = generate(params, state, key, batch["image"].shape[0], train=True)
        (logit_a, logit_b), state = apply_net(disc, "disc", params, state, fake_a, fake_b, train=True)
        loss_a, loss_b = losses.gan_generator_loss(logit_a).mean(), losses.gan_generator_loss(logit_b).mean()
        return loss_a + loss_b, ({"loss": loss_a + loss_b, "loss_a": loss_a, "loss_b": loss_b}, state)

    def sample(params, state, key, n):
        """Pairs from shared noise: "images" (domain A) and "images_b" (domain B), in [0, 1]."""
        (a, b), _ = generate(params, state, key, n, train=False)
        return {"images": from_signed(a), "images_b": from_signed(b)}

    def image(shape):
        return jax.ShapeDtypeStruct((1, *shape), jnp.float32)

    return Family(
        networks={"gen": gen, "disc": disc},
        example_inputs={
            "gen": (jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32),),
            "disc": (image(setup.image_shape), image(setup.image_shape_b)),
        },
        optimizers={"gen": setup.optimizer, "disc": setup.optimizer},
        updates=(Update("disc", ("disc",), disc_loss), Update("gen", ("gen",), gen_loss)),
        data="unpaired_domains",
        can=Abilities(sample=sample),
    )


# ----------------------------------------------------------------------------------------- UNIT


def instance_standardise(x: jax.Array, eps: float = 1e-3) -> jax.Array:
    """Images [B, H, W, C] with each image's channels at mean 0 and standard deviation 1 (an all-blank
    channel stays 0)."""
    mean = x.mean(axis=(1, 2), keepdims=True)
    return (x - mean) * jax.lax.rsqrt(x.var(axis=(1, 2), keepdims=True) + eps**2)


class UnitEncoder(nn.Module):
    """(images of A, images of B) [B, S, S, C] in [0, 1] -> (latent means of A, of B) [B, latent_dim].

    Per domain: k4 s2 convs of the DCGAN down stack but the last (BatchNorm after all but the first,
    LeakyReLU 0.2); shared by both domains (the high-level layers that make the latent space common): the
    last down conv, then a dense layer to the mean. The shared layers run on both domains' features at once,
    so their BatchNorm statistics are the same in training and evaluation. With style_dim > 0 it also
    returns each domain's style [B, style_dim] (means of A, of B, styles of A, of B)."""

    widths: tuple[int, ...]
    latent_dim: int
    conv: layers.ConvOptions = layers.ConvOptions()
    style_dim: int = 0

    @nn.compact
    def __call__(self, x_a: jax.Array, x_b: jax.Array, train: bool = True) -> tuple[jax.Array, ...]:
        own = self.widths[:-1]
        # with styles, the content path reads each image's channels normalised (MUNIT's content encoder
        # normalises per instance): a coloured digit's two colours set each channel's mean and spread,
        # which are then gone from the content, and left to the style
        content_in = instance_standardise if self.style_dim else lambda x: x
        features = [
            layers.DownStack(own, conv=self.conv, name=f"own_{d}")(content_in(x), train).reshape(
                x.shape[0], x.shape[1] // 2 ** len(own), x.shape[2] // 2 ** len(own), own[-1]
            )
            for x, d in ((x_a, "a"), (x_b, "b"))
        ]
        h = layers.Conv(self.widths[-1], use_bias=False, conv=self.conv)(jnp.concatenate(features))
        h = nn.leaky_relu(layers.batch_norm(train)(h), 0.2)
        mean = nn.Dense(self.latent_dim, kernel_init=layers.dcgan_init)(h.reshape(h.shape[0], -1))
        means = (mean[: x_a.shape[0]], mean[x_a.shape[0] :])
        if not self.style_dim:
            return means
        # a style per domain, from a conv of that domain's raw images averaged over the map (MUNIT's style
        # encoder pools globally): what the image has beyond the shared content, such as a coloured
        # digit's two colours; never through the shared layers
        styles = tuple(
            nn.Dense(self.style_dim, name=f"style_{d}")(
                layers.DownStack(own[:1], conv=self.conv, name=f"style_conv_{d}")(x, train)
                .reshape(x.shape[0], -1, own[0])
                .mean(axis=1)
            )
            for x, d in ((x_a, "a"), (x_b, "b"))
        )
        return means + styles


class UnitDecoder(nn.Module):
    """(codes to write in A, codes to write in B) [B, latent_dim] -> (images of A, images of B) in [0, 1].

    Shared by both domains (the high-level layers): the DCGAN up stack's dense projection to 4x4 and its
    first transposed convs; per domain: the last transposed conv block and the output layer (sigmoid).
    With style_dim > 0 the styles to write each domain in [B, style_dim] follow the codes."""

    widths: tuple[int, ...]
    channels: tuple[int, int]
    conv: layers.ConvOptions = layers.ConvOptions()
    style_dim: int = 0

    @nn.compact
    def __call__(
        self,
        z_a: jax.Array,
        z_b: jax.Array,
        style_a: jax.Array | None = None,
        style_b: jax.Array | None = None,
        train: bool = True,
    ) -> tuple[jax.Array, jax.Array]:
        shared, own = self.widths[:-1], self.widths[-1]
        h = layers.UpStack(shared, out_channels=0, conv=self.conv)(jnp.concatenate([z_a, z_b]), train)
        outputs = []
        for part, style, c, d in (
            (h[: z_a.shape[0]], style_a, self.channels[0], "a"),
            (h[z_a.shape[0] :], style_b, self.channels[1], "b"),
        ):
            part = layers.Conv(own, transpose=True, use_bias=False, conv=self.conv, name=f"up_{d}")(part)
            part = layers.batch_norm(train)(part)
            if self.style_dim:
                # the style scales and shifts each channel of the domain's own block (FiLM, as MUNIT's
                # AdaIN): the shared layers draw the shape, the style its colours
                film = nn.Dense(2 * own, kernel_init=nn.initializers.zeros, name=f"film_{d}")(style)
                scale, shift = jnp.split(film[:, None, None, :], 2, axis=-1)
                part = part * (1.0 + scale) + shift
            part = nn.relu(part)
            out = layers.Conv(c, transpose=True, conv=self.conv, name=f"out_{d}")(part)
            outputs.append(jax.nn.sigmoid(out))
        return outputs[0], outputs[1]


class LatentClassifier(nn.Module):
    """Shared latent codes [B, latent_dim] -> digit logits [B, classes]: one hidden layer."""

    hidden: int
    classes: int = 10

    @nn.compact
    def __call__(self, codes: jax.Array, train: bool = True) -> jax.Array:
        del train
        return nn.Dense(self.classes)(nn.relu(nn.Dense(self.hidden)(codes)))


class SharedDiscriminator(nn.Module):
    """(images of A, images of B) [B, S, S, C] in [-1, 1] -> per domain (scores [B], digit logits
    [B, classes], features [B, F]): the discriminator of the UNIT authors' domain-adaptation code. One first
    k4 s2 conv per domain, then k4 s2 convs shared by both (LeakyReLU 0.2, no BatchNorm) and two shared
    dense heads: the least-squares GAN score and a digit classifier. In training, dropout (0.1 on the shared
    layers' input, 0.3 after the first, 0.5 after the others, as the authors') is on the path to the heads
    only; the features are the last hidden layer without it, by which translations are tied to
    reconstructions."""

    widths: tuple[int, ...]
    classes: int = 10
    conv: layers.ConvOptions = layers.ConvOptions()

    @nn.compact
    def __call__(self, x_a: jax.Array, x_b: jax.Array, train: bool = True):
        init = layers.dcgan_init
        firsts = _first_convs(x_a, x_b, self.widths[0], self.conv)
        convs = [layers.Conv(width, conv=self.conv, kernel_init=init) for width in self.widths[1:]]
        rates = (0.1, 0.3, *[0.5] * (len(convs) - 1))

        def shared(h, dropout):
            drop = [nn.Dropout(r, deterministic=not dropout, rng_collection=DROPOUT) for r in rates]
            h = drop[0](h)
            for conv, after in zip(convs, drop[1:], strict=True):
                h = after(nn.leaky_relu(conv(h), 0.2))
            return h.reshape(h.shape[0], -1)

        h = jnp.concatenate(firsts)
        features = shared(h, dropout=False)
        dropped = shared(h, dropout=True) if train else features
        scores = nn.Dense(1, kernel_init=init, name="score")(dropped)[:, 0]
        logits = nn.Dense(self.classes, name="classify")(dropped)
        n = x_a.shape[0]
        return (scores[:n], logits[:n], features[:n]), (scores[n:], logits[n:], features[n:])


# how UNIT classifies domain B (model.adapt_with)
ADAPTATIONS = ("latent", "discriminator")
# UNIT's pixel error of reconstructions and cycles (model.recon_loss, named as the autoencoders' option):
# the paper's L1, or the squared error (the decoders end in a sigmoid, so no BCE on logits)
RECON_LOSSES = ("l1", "mse")


def source_classifier():
    """Logits [B, 10] of the packaged MNIST classifier (jaxgen/assets, checksum verified), fixed weights,
    for images [B, 32, 32, C] in [0, 1]; several channels are read through their mean, as the adaptation
    baseline reads coloured digits. Differentiable in the images."""
    from jaxgen import features  # features imports the classifier models

    extractor = features.load_extractor(domain="original")

    def read_digit(images):
        grey = images if images.shape[-1] == 1 else jnp.mean(images, -1, keepdims=True)
        return extractor.module.apply(extractor.variables, grey, train=False)

    return read_digit


def make_unit(model: ml_collections.ConfigDict, setup: Setup) -> Family:
    """UNIT (Liu, Breuel & Kautz 2017, arXiv:1703.00848) on unpaired data: enc (two VAE encoders sharing
    their high-level layers), dec (two decoders sharing theirs), d_a, d_b (DCGAN discriminators), and cls (a
    digit classifier on the shared latent, trained on domain A's labels only).

    Per domain the VAE: z = mean + N(0, I) noise (unit variance, as the paper), KL term mean(mean^2)
    (0.5 ||mean||^2 per latent dimension, the authors' code) and an L1 reconstruction (or squared error:
    model.recon_loss, also for the cycle terms). Translation A -> B decodes A's code with B's decoder; the
    GAN terms (least squares) judge translations in the target domain; cycle consistency encodes each
    translation again and decodes it back (with its own KL term).
    Domain adaptation (model.adapt_with), domain B's labels never read:
    - "latent": cls reads domain A's codes and the codes of A's images translated to B (both carry A's
      labels), then classifies domain B's images from their codes;
    - "discriminator" (the authors' domain-adaptation code): one discriminator `disc` whose first conv is
      per domain and whose other layers, GAN score and digit classifier are shared (SharedDiscriminator);
      its classifier learns A's labels through A's first conv, and its features of each translation are
      tied (feature_weight x their summed squared difference) to its features of the reconstruction of the
      same image in the other domain; it classifies domain B through B's first conv. No cls network.
    With model.style_dim > 0, a style per domain beside the shared code (UnitEncoder, UnitDecoder): its
    means take the KL term too, translations are written in styles drawn from N(0, I) and read back to
    them (style_weight x L1), and each cycle ends in its image's own style; decode/translate write in the
    prior's mean style (zeros).
    With model.semantic_weight > 0, CyCADA's semantic consistency (Hoffman et al. 2018, arXiv:1711.03213):
    the packaged MNIST classifier, fixed, must read each B -> A translation as the digit it reads on the
    B image itself, and each A -> B translation as A's label, so no translation may swap digits (the
    permutation failure, experiments/README.md); it reads A's domain, so domain A must be MNIST itself.
    With model.matched_weight > 0 (and data.match_b), cls also learns domain B's matched labels (found from
    both domains' images by Gromov-Wasserstein matching, jaxgen/data/matching.py) on B's codes and on the
    codes of B's translations to A: the matching says which digit of B is which where UNIT's losses, met by
    any one-to-one matching of the two domains' digits, cannot (a quarter-turned digit)."""
    size, _, channels_a = setup.image_shape
    channels_b = setup.image_shape_b[-1]
    widths = layers.down_widths(model.width, (size // 4).bit_length() - 1)
    styled = model.style_dim > 0
    enc = UnitEncoder(widths, model.latent_dim, conv=setup.conv, style_dim=model.style_dim)
    up = layers.up_widths(model.width, size)
    dec = UnitDecoder(up, (channels_a, channels_b), conv=setup.conv, style_dim=model.style_dim)
    on_latent = model.adapt_with == "latent"
    recon, cycle = f"recon_{model.recon_loss}", f"cycle_{model.recon_loss}"

    pixel_error = functools.partial(losses.reconstruction_loss, kind=model.recon_loss)
    read_digit = source_classifier() if model.semantic_weight else None
    if on_latent:
        disc = gan.Discriminator(widths, conv=setup.conv)
        nets = {
            "enc": enc,
            "dec": dec,
            "d_a": disc,
            "d_b": disc,
            "cls": LatentClassifier(model.classifier_hidden),
        }
    else:
        nets = {"enc": enc, "dec": dec, "disc": SharedDiscriminator(widths, conv=setup.conv)}

    def run(name, params, state, *inputs, train=True, **kwargs):
        return apply_net(nets[name], name, params, state, *inputs, train=train, **kwargs)

    def judge(params, state, images_a, images_b, key):
        """Per domain (GAN scores, digit logits, features) of images in [0, 1]; logits and features only
        from the shared discriminator (None from the per-domain ones)."""
        signed_a, signed_b = to_signed(images_a), to_signed(images_b)
        if on_latent:
            score_a, state = run("d_a", params, state, signed_a)
            score_b, state = run("d_b", params, state, signed_b)
            return ((score_a, None, None), (score_b, None, None)), state
        return run("disc", params, state, signed_a, signed_b, rngs={DROPOUT: key})

    def noisy(key, means):
        return means + model.code_noise * jax.random.normal(key, means.shape)

    def kl(means):
        return jnp.mean(jnp.square(means), axis=-1)

    def translations(params, state, a, b, key):
        """Codes of both domains and the translations A -> B, B -> A of their noisy codes; with styles
        (model.style_dim) also each image's noisy style and its mean, and the styles drawn from the prior
        N(0, I) that the translations are written in (MUNIT's; writing each in the style of an image of
        the target domain classified fewer coloured digits, experiments/README.md)."""
        (mean_a, mean_b, *style_means), state = run("enc", params, state, a, b)
        key_a, key_b = jax.random.split(key)
        z_a, z_b = noisy(key_a, mean_a), noisy(key_b, mean_b)
        styles = {}
        if styled:
            keys = jax.random.split(jax.random.fold_in(key, 1), 4)
            own = [noisy(k, m) for k, m in zip(keys[:2], style_means, strict=True)]
            drawn = [jax.random.normal(k, m.shape) for k, m in zip(keys[2:], style_means, strict=True)]
            styles = {"means": style_means, "own": own, "drawn": drawn}
        (fake_a, fake_b), state = run("dec", params, state, z_b, z_a, *styles.get("drawn", ()))
        return (mean_a, mean_b, z_a, z_b, fake_a, fake_b), styles, state

    def gen_loss(params, state, batch, key):
        """Per domain: kl_weight x KL + recon_weight x error(recon) + gan_weight x LSGAN(translation into
        it) + cycle_kl_weight x KL(code of the translation) + cycle_weight x error(cycle), the pixel error
        of model.recon_loss; class_weight x the cross-entropy of A's labels on A's codes and on the codes
        of A's translations to B. Batch mean."""
        a, b, labels = batch["image"], batch["image_b"], batch["label"]
        translate_key, cycle_key = jax.random.split(key)
        (mean_a, mean_b, z_a, z_b, fake_a, fake_b), styles, state = translations(
            params, state, a, b, translate_key
        )
        own_styles = styles.get("own", ())
        # BatchNorm's running statistics (what evaluation normalises with) come from the passes over real
        # images and their codes only: the passes below over translations would drag them towards the
        # statistics of images that evaluation never sees
        (recon_a, recon_b), _ = run("dec", params, state, z_a, z_b, *own_styles)
        (mean_ba, mean_ab, *read_styles), _ = run("enc", params, state, fake_a, fake_b)
        key_ab, key_ba = jax.random.split(cycle_key)
        # A -> B -> A: B's code of the translation, written in A; and B -> A -> B. With styles, each cycle
        # ends in its image's own style: what the other domain cannot hold need not pass through it
        (cycle_a, cycle_b), _ = run(
            "dec", params, state, noisy(key_ab, mean_ab), noisy(key_ba, mean_ba), *own_styles
        )
        # the shared discriminator's dropout: a key of its own (fold_in leaves the splits above as they were)
        judge_key = jax.random.fold_in(key, 1)
        ((score_a, *_), (score_b, *_)), state = judge(params, state, fake_a, fake_b, judge_key)
        terms = {
            "kl": kl(mean_a) + kl(mean_b),
            recon: pixel_error(recon_a, a) + pixel_error(recon_b, b),
            "gan": jnp.square(score_a - 1.0) + jnp.square(score_b - 1.0),
            "cycle_kl": kl(mean_ab) + kl(mean_ba),
            cycle: pixel_error(cycle_a, a) + pixel_error(cycle_b, b),
        }
        if styled:
            terms["kl"] = terms["kl"] + sum(kl(m) for m in styles["means"])
            # the style each translation is read back with is the one it was drawn in (MUNIT's style
            # reconstruction, L1); read_styles are (B -> A's, A -> B's), drawn as (A's, B's)
            terms["style_cycle"] = sum(
                jnp.mean(jnp.abs(read - drawn), axis=-1)
                for read, drawn in zip(read_styles, styles["drawn"], strict=True)
            )
        agreements = {}  # rates of agreement with the labels a term teaches (not loss terms)
        if read_digit is not None:
            # the digit the source classifier reads on each B image is the one its translation must show
            read_b, read_ba = read_digit(b), read_digit(fake_a)
            pseudo_labels = jnp.argmax(read_b, -1)
            terms["semantic"] = losses.softmax_cross_entropy(
                read_ba, pseudo_labels
            ) + losses.softmax_cross_entropy(read_digit(fake_b), labels)
            agreements["semantic_agreement"] = jnp.mean(jnp.argmax(read_ba, -1) == pseudo_labels)
        if on_latent:
            logits = [run("cls", params, state, codes)[0] for codes in (mean_a, mean_ab)]
            terms["class_ce"] = sum(losses.softmax_cross_entropy(x, labels) for x in logits)
        if model.matched_weight:
            # domain B's labels found by matching the two domains' images (data.match_b), on B's codes and
            # on the codes of B's translations to A, as A's labels are on A's and A -> B's
            matched = batch["matched_label_b"]
            logits_b = [run("cls", params, state, codes)[0] for codes in (mean_b, mean_ba)]
            terms["matched_ce"] = sum(losses.softmax_cross_entropy(x, matched) for x in logits_b)
            agreements["matched_agreement"] = jnp.mean(jnp.argmax(logits_b[0], -1) == matched)
        weights = {
            "kl": model.kl_weight,
            recon: model.recon_weight,
            "gan": model.gan_weight,
            "cycle_kl": model.cycle_kl_weight,
            cycle: model.cycle_weight,
            "class_ce": model.class_weight,
            "style_cycle": model.style_weight,
            "semantic": model.semantic_weight,
            "matched_ce": model.matched_weight,
        }
        loss = sum(weights[name] * value for name, value in terms.items()).mean()
        metrics = {name: value.mean() for name, value in terms.items()} | agreements
        if on_latent:
            metrics["class_accuracy"] = jnp.mean(jnp.argmax(logits[0], -1) == labels)
        return loss, ({"loss": loss, **metrics}, state)

    def disc_loss(params, state, batch, key):
        """0.5 x ((D(real) - 1)^2 + D(translation)^2) per domain, on the current networks' translations; the
        shared discriminator adds class_weight x the cross-entropy of A's labels on A's images and
        feature_weight x the squared feature distances of each translation to its source's reconstruction."""
        a, b = batch["image"], batch["image_b"]
        real_key, fake_key, recon_key = (jax.random.fold_in(key, i) for i in (1, 2, 3))
        (_, _, z_a, z_b, fake_a, fake_b), styles, state = translations(params, state, a, b, key)
        fake_a, fake_b = jax.lax.stop_gradient((fake_a, fake_b))
        (real_a, real_b), state = judge(params, state, a, b, real_key)
        (trans_a, trans_b), state = judge(params, state, fake_a, fake_b, fake_key)
        out = {
            f"loss_{d}": 0.5 * (jnp.square(real[0] - 1.0) + jnp.square(fake[0])).mean()
            for d, real, fake in (("a", real_a, trans_a), ("b", real_b, trans_b))
        }
        loss = out["loss_a"] + out["loss_b"]
        if not on_latent:
            # the reconstructions x_aa, x_bb (running statistics untouched, as in gen_loss)
            recons, _ = run("dec", params, state, z_a, z_b, *styles.get("own", ()))
            (recon_a, recon_b), state = judge(params, state, *jax.lax.stop_gradient(recons), recon_key)
            # A -> B read through B's first conv against A -> A through A's, and B -> A against B -> B
            squared = jnp.sum(jnp.square(trans_b[2] - recon_a[2]), -1) + jnp.sum(
                jnp.square(trans_a[2] - recon_b[2]), -1
            )
            out["feature"] = squared.mean()
            out["class_ce"] = losses.softmax_cross_entropy(real_a[1], batch["label"]).mean()
            out["class_accuracy"] = jnp.mean(jnp.argmax(real_a[1], -1) == batch["label"])
            loss = loss + model.class_weight * out["class_ce"] + model.feature_weight * out["feature"]
        return loss, ({"loss": loss, **out}, state)

    def paired(images, domain):
        """(A input, B input) for networks that take both domains: images in their domain's slot, zeros in
        the other's."""
        other = jnp.zeros((images.shape[0], *(setup.image_shape_b if domain == "a" else setup.image_shape)))
        return (images, other) if domain == "a" else (other, images)

    def codes(params, state, images, domain):
        """Latent means of one domain's images (the other encoder input is a placeholder)."""
        means = run("enc", params, state, *paired(images, domain), train=False)[0]
        return means[0] if domain == "a" else means[1]

    def decode_in(params, state, z, domain, style=None):
        """Codes [B, latent_dim] written in one domain, in the given style [B, style_dim] or the prior's
        mean style (zeros)."""
        styles = () if not styled else (jnp.zeros((z.shape[0], model.style_dim)),) * 2
        if style is not None:
            styles = (style, styles[1]) if domain == "a" else (styles[0], style)
        (out_a, out_b), _ = run("dec", params, state, z, z, *styles, train=False)
        return out_a if domain == "a" else out_b

    def translate(params, state, images):
        return decode_in(params, state, codes(params, state, images, "a"), "b")

    def translate_back(params, state, images):
        return decode_in(params, state, codes(params, state, images, "b"), "a")

    def reconstruct_in(params, state, images, domain):
        """One domain's images through its own autoencoder (mean codes), in their own styles."""
        if not styled:
            return decode_in(params, state, codes(params, state, images, domain), domain)
        means = run("enc", params, state, *paired(images, domain), train=False)[0]
        mean, style = (means[0], means[2]) if domain == "a" else (means[1], means[3])
        return decode_in(params, state, mean, domain, style)

    def reconstruct(params, state, images):
        return reconstruct_in(params, state, images, "a")

    def classify_in(params, state, images, domain):
        if on_latent:
            return run("cls", params, state, codes(params, state, images, domain), train=False)[0]
        pair = paired(images, domain)
        outputs = run("disc", params, state, *(to_signed(x) for x in pair), train=False)[0]
        return outputs[0 if domain == "a" else 1][1]

    def classify(params, state, images):
        return classify_in(params, state, images, "a")

    def classify_b(params, state, images):
        return classify_in(params, state, images, "b")

    def evaluate(params, state, batch):
        return {"recon_l1_a": pixel_l1(reconstruct(params, state, batch["image"]), batch["image"])}

    def image(shape):
        return jax.ShapeDtypeStruct((1, *shape), jnp.float32)

    code = jax.ShapeDtypeStruct((1, model.latent_dim), jnp.float32)
    style = jax.ShapeDtypeStruct((1, model.style_dim), jnp.float32)
    example_inputs = {
        "enc": (image(setup.image_shape), image(setup.image_shape_b)),
        "dec": (code, code, style, style) if styled else (code, code),
        "d_a": (image(setup.image_shape),),
        "d_b": (image(setup.image_shape_b),),
        "cls": (code,),
        "disc": (image(setup.image_shape), image(setup.image_shape_b)),
    }
    return Family(
        networks=nets,
        example_inputs={name: example_inputs[name] for name in nets},
        optimizers={name: setup.optimizer for name in nets},
        updates=(
            Update("disc", ("d_a", "d_b") if on_latent else ("disc",), disc_loss),
            Update("gen", ("enc", "dec", "cls") if on_latent else ("enc", "dec"), gen_loss),
        ),
        data="unpaired_domains",
        can=Abilities(
            translate=translate,
            translate_back=translate_back,
            reconstruct=reconstruct,
            reconstruct_b=lambda params, state, images: reconstruct_in(params, state, images, "b"),
            encode=lambda params, state, images: codes(params, state, images, "a"),
            decode=lambda params, state, z: decode_in(params, state, z, "a"),
            decode_b=lambda params, state, z: decode_in(params, state, z, "b"),
            encode_b=lambda params, state, images: codes(params, state, images, "b"),
            classify=classify,
            classify_b=classify_b,
            evaluate=evaluate,
        ),
    )


# ----------------------------------------------------------------------------------------- options


def pix2pix_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, None)
    o.l1_weight = 100.0  # lambda of the L1 term
    o.gan_weight = 1.0  # weight of the GAN term; 0: the L1-only U-Net baseline (no discriminator)
    o.dropout_layers = 2  # innermost U-Net decoder layers with dropout 0.5 (the paper: 3 of its 7)
    o.patch_downsamples = 1  # PatchGAN stride-2 convs: 1 -> 16x16 patches of a 32x32 image, 2 -> 34x34
    return o


def cyclegan_options() -> ml_collections.ConfigDict:
    o = options.conv_net(64, None)
    # the L1 terms are on [0, 1] pixels, the paper's on [-1, 1]: its lambda 10 weighs twice what 10 does here
    o.cycle_weight = 10.0  # lambda of the cycle loss
    o.identity_weight = 5.0  # the identity loss: 0.5 lambda as the authors' code; 0 = off
    o.res_blocks = 3  # residual blocks of the generators (the paper: 6 at 128x128, 9 at 256x256)
    o.pool_size = 50  # past fakes per domain the discriminators draw from (the paper's 50); 0 = no pool
    o.patch_downsamples = 1
    return o


def _pix2pix_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    if model.gan_weight == 0 and model.l1_weight == 0:
        return "model.gan_weight and model.l1_weight are both 0: the generator would learn nothing"
    return None


def _cyclegan_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    grey = (data.image_size, data.image_size, 1)
    if model.identity_weight and output_shape(data.domain_a, grey) != output_shape(data.domain_b, grey):
        return (
            f"model.identity_weight={model.identity_weight}: the identity loss feeds domain B's images to "
            f"the A->B generator, but data.domain_a={data.domain_a!r} and data.domain_b={data.domain_b!r} "
            "have different channel counts; set model.identity_weight=0"
        )
    return None


def _unit_problem(model: ml_collections.ConfigDict, data: ml_collections.ConfigDict) -> str | None:
    if model.matched_weight and not data.match_b:
        return (
            f"model.matched_weight={model.matched_weight} trains the latent classifier on domain B's matched "
            "labels: set data.match_b='gromov_wasserstein' (or model.matched_weight=0)"
        )
    if model.matched_weight and model.adapt_with != "latent":
        return (
            f"model.matched_weight={model.matched_weight} trains the classifier on the shared latent, but "
            f"model.adapt_with={model.adapt_with!r}; set model.adapt_with='latent'"
        )
    if model.semantic_weight and (data.name, data.domain_a, data.image_size) != ("mnist", "original", 32):
        return (
            f"model.semantic_weight={model.semantic_weight}: the semantic loss reads translations into "
            f"domain A with the packaged MNIST classifier (32x32 MNIST digits), but data.name={data.name!r}, "
            f"data.domain_a={data.domain_a!r}, data.image_size={data.image_size}; set model.semantic_weight=0"
        )
    return None


def cogan_options() -> ml_collections.ConfigDict:
    return options.conv_net(64, 100)


def unit_options() -> ml_collections.ConfigDict:
    o = options.conv_net(32, 128)  # latent_dim: the shared code (the paper: 512 channels at 1x1)
    o.gan_weight = 10.0  # lambda_0 of the paper: the GAN terms
    o.kl_weight = 0.1  # lambda_1: the VAE's KL terms
    o.recon_weight = 100.0  # lambda_2: the VAE's reconstruction
    o.cycle_kl_weight = 0.1  # lambda_3: the KL terms of the translations' codes
    o.cycle_weight = 100.0  # lambda_4: the cycle reconstruction
    # the pixel error of both reconstructions: "l1" (the paper) or "mse" (mean squared error); the squared
    # error of [0, 1] pixels is smaller than their L1, so raise the two weights with it
    o.recon_loss = "l1"
    # where domain B is classified: "latent" (a classifier on the shared latent) or "discriminator" (the
    # authors' domain-adaptation code: a classifier sharing the discriminators' high-level layers)
    o.adapt_with = "latent"
    # the digit classifier's cross-entropy on domain A's labels (the authors' cls_w; 0 = translation only)
    o.class_weight = 10.0
    o.code_noise = 1.0  # std of the Gaussian noise on the codes: 1 = the paper's unit-variance VAE
    o.classifier_hidden = 128  # units of the latent classifier's hidden layer
    # "discriminator": weight of the summed squared distance between the discriminator's features of each
    # translation and of its source's reconstruction (the authors' feature_w)
    o.feature_weight = 1e-4
    # a style code per domain beside the shared content (0 = UNIT): each domain's encoder also reads a
    # style of this many dimensions from the raw image, which scales and shifts its own decoder block, and
    # its content path reads the image instance-normalised (MUNIT, Huang et al. 2018); translations are
    # written in styles drawn from N(0, I), cycles end in the image's own style. For domains whose images
    # carry what the other cannot (a coloured digit's colours)
    o.style_dim = 0
    o.style_weight = 1.0  # the L1 between the style a translation is drawn in and the style read back
    # CyCADA's semantic consistency: cross-entropy of the packaged MNIST classifier on each translation
    # against the digit it reads on the source image (B -> A) or A's label (A -> B); 0 = UNIT's losses only
    o.semantic_weight = 0.0
    # the latent classifier's cross-entropy on domain B's matched labels (data.match_b: found from both
    # domains' images and A's labels, never B's), on B's codes and on B -> A's; 0 = none
    o.matched_weight = 0.0
    return o


MODELS = {
    # the paper's optimisation: Adam 2e-4, beta1 0.5 (the base config's)
    "pix2pix": ModelSpec(
        make_pix2pix,
        pix2pix_options,
        {"data.domain_b": "edges", "train.batch_size": 32, "train.num_steps": 2000},
        positive=("width", "patch_downsamples"),
        non_negative=("l1_weight", "gan_weight", "dropout_layers"),
        check=_pix2pix_problem,
    ),
    "cyclegan": ModelSpec(
        make_cyclegan,
        cyclegan_options,
        {"data.domain_b": "edges", "train.batch_size": 8, "train.num_steps": 4000, "train.eval_every": 2000},
        positive=("width", "patch_downsamples"),
        non_negative=("cycle_weight", "identity_weight", "res_blocks", "pool_size"),
        check=_cyclegan_problem,
    ),
    # the paper's optimisation: Adam 2e-4, beta1 0.5, batch 128 (batch 64 here for the CPU); 6000 steps: the
    # digits / edges pixel agreement was 0.923 at 3000 and 0.938 at 6000 (experiments/README.md)
    "cogan": ModelSpec(
        make_cogan,
        cogan_options,
        {"data.domain_b": "edges", "train.num_steps": 6000},
        positive=options.CONV_POSITIVE,
    ),
    # the paper's optimisation: Adam 1e-4, betas (0.5, 0.999); batch 64 as its digit adaptation runs
    "unit": ModelSpec(
        make_unit,
        unit_options,
        {
            "data.domain_b": "original",
            "data.name_b": "uci_digits",
            "optim.lr": 1e-4,
            "train.batch_size": 64,
            "train.num_steps": 3000,
        },
        choices={"adapt_with": ADAPTATIONS, "recon_loss": RECON_LOSSES},
        positive=(*options.CONV_POSITIVE, "classifier_hidden"),
        non_negative=(
            "feature_weight",
            "gan_weight",
            "kl_weight",
            "recon_weight",
            "cycle_kl_weight",
            "cycle_weight",
            "class_weight",
            "code_noise",
            "style_dim",
            "style_weight",
            "semantic_weight",
            "matched_weight",
        ),
        check=_unit_problem,
    ),
}
