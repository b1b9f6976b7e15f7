"""Pure losses shared by more than one family. Each returns one value per example ([B]).

Logit-based forms use `log_sigmoid` / `softplus` for numerical stability, as optax does.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax


def _per_example(x: jax.Array) -> jax.Array:
    """Sum everything but the batch axis."""
    return x.reshape(x.shape[0], -1).sum(axis=1)


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Cross-entropy of integer labels [B] under logits [B, K]."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def gan_discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """-log D(x) - log(1 - D(G(z))) (Goodfellow et al. 2014, arXiv:1406.2661); logits [B] or [B, 1]."""
    return _per_example(jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits))


GAN_GENERATOR_LOSSES = ("non_saturating", "minimax")


def gan_generator_loss(fake_logits: jax.Array, kind: str = "non_saturating") -> jax.Array:
    """Generator loss on D's logits for G(z): 'non_saturating' -log D(G(z)), or 'minimax' log(1 - D(G(z)))."""
    if kind == "non_saturating":
        return _per_example(jax.nn.softplus(-fake_logits))
    if kind == "minimax":
        return _per_example(-jax.nn.softplus(fake_logits))
    raise ValueError(f"unknown GAN generator loss {kind!r}")


def wasserstein_critic_loss(real_scores: jax.Array, fake_scores: jax.Array) -> jax.Array:
    """Critic side of the Wasserstein-1 estimate: f(G(z)) - f(x) (Arjovsky et al. 2017, arXiv:1701.07875)."""
    return _per_example(fake_scores - real_scores)


def wasserstein_generator_loss(fake_scores: jax.Array) -> jax.Array:
    """Generator side: -f(G(z))."""
    return _per_example(-fake_scores)


def least_squares_discriminator_loss(
    real_scores: jax.Array, fake_scores: jax.Array, a: float = 0.0, b: float = 1.0
) -> jax.Array:
    """LSGAN: 0.5 (D(x) - b)^2 + 0.5 (D(G(z)) - a)^2 (Mao et al. 2017, arXiv:1611.04076, eq. 2)."""
    return 0.5 * _per_example(jnp.square(real_scores - b) + jnp.square(fake_scores - a))


def least_squares_generator_loss(fake_scores: jax.Array, c: float = 1.0) -> jax.Array:
    """LSGAN generator: 0.5 (D(G(z)) - c)^2."""
    return 0.5 * _per_example(jnp.square(fake_scores - c))


def gradient_penalty(
    critic: Callable[[jax.Array], jax.Array], real: jax.Array, fake: jax.Array, key: jax.Array
) -> jax.Array:
    """WGAN-GP: (||grad_x f(x_hat)||_2 - 1)^2 per example [B] (Gulrajani et al. 2017, arXiv:1704.00028).

    x_hat = eps x + (1 - eps) G(z) with one eps ~ U(0, 1) per example (not per pixel), and the norm is
    taken per example over all its pixels (not over the batch). `critic` maps images [B, ...] to scores
    [B] and must treat examples independently (no BatchNorm), so that the gradient of the summed scores
    with respect to x_hat holds each example's own gradient.
    """
    eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
    mixed = eps * real + (1.0 - eps) * fake
    grads = jax.grad(lambda x: jnp.sum(critic(x)))(mixed)
    norms = jnp.sqrt(_per_example(jnp.square(grads)) + 1e-12)
    return jnp.square(norms - 1.0)


def began_k_update(k: jax.Array, real_loss: jax.Array, fake_loss: jax.Array, gamma: float, lambda_k: float):
    """BEGAN's equilibrium control: k <- clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1), and the
    convergence measure M = L(x) + |gamma L(x) - L(G(z))| (Berthelot et al. 2017, arXiv:1703.10717).

    L are the batch-mean autoencoder losses of the discriminator; returns (new k, M).
    """
    balance = gamma * real_loss - fake_loss
    return jnp.clip(k + lambda_k * balance, 0.0, 1.0), real_loss + jnp.abs(balance)


def ebgan_discriminator_loss(real_energy: jax.Array, fake_energy: jax.Array, margin: float) -> jax.Array:
    """EBGAN: D(x) + max(0, m - D(G(z))) on energies [B] (Zhao et al. 2016, arXiv:1609.03126, eq. 1)."""
    return real_energy + jax.nn.relu(margin - fake_energy)


def pulling_away_term(codes: jax.Array) -> jax.Array:
    """EBGAN's repelling regulariser on a batch of codes [B, D] (a scalar):
    1 / (B (B - 1)) sum_{i != j} cos(s_i, s_j)^2."""
    unit = codes / (jnp.linalg.norm(codes, axis=-1, keepdims=True) + 1e-12)
    cosine = unit @ unit.T
    n = codes.shape[0]
    return (jnp.sum(jnp.square(cosine)) - jnp.sum(jnp.square(jnp.diag(cosine)))) / (n * (n - 1))


def info_gan_mutual_information_loss(
    category_logits: jax.Array,
    categories: jax.Array,
    continuous_mean: jax.Array,
    continuous: jax.Array,
    continuous_weight: float = 1.0,
) -> jax.Array:
    """-(lower bound of I(c; G(z, c))) up to the constant H(c), per example [B] (Chen et al. 2016,
    arXiv:1606.03657): cross-entropy of the sampled category under Q plus continuous_weight x the Gaussian
    negative log-likelihood (unit variance) of the continuous codes [B, C] under Q's means (the paper
    weighs continuous codes less, its section 6; the reference code's MNIST run weighs both 1)."""
    nll_continuous = 0.5 * jnp.sum(jnp.square(continuous - continuous_mean) + jnp.log(2.0 * jnp.pi), axis=-1)
    return softmax_cross_entropy(category_logits, categories) + continuous_weight * nll_continuous


RECONSTRUCTION_LOSSES = ("mse", "bce", "l1")


def reconstruction_loss(output: jax.Array, target: jax.Array, kind: str) -> jax.Array:
    """Per-example reconstruction error, averaged over pixels so it reads the same at any image size.

    'mse' / 'l1': squared / absolute pixel error; 'bce': output are logits, target pixels in [0, 1].
    """
    if kind == "mse":
        err = jnp.square(output - target)
    elif kind == "l1":
        err = jnp.abs(output - target)
    elif kind == "bce":
        err = sigmoid_cross_entropy(output, target)
    else:
        raise ValueError(f"unknown reconstruction loss {kind!r}")
    return err.reshape(err.shape[0], -1).mean(axis=1)


# ----------------------------------------------------------------------------------------- VAE pieces


def gaussian_kl_to_standard(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, exp(logvar)) || N(0, I)) per example [B], analytic (Kingma & Welling 2013, app. B)."""
    return 0.5 * _per_example(jnp.square(mean) + jnp.exp(logvar) - 1.0 - logvar)


def diagonal_gaussian_log_density(z: jax.Array, mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """log N(z; mean, diag(exp(logvar))), summed over the last axis (broadcasts over leading axes)."""
    return -0.5 * jnp.sum(jnp.log(2.0 * jnp.pi) + logvar + jnp.square(z - mean) * jnp.exp(-logvar), axis=-1)


@jax.custom_jvp
def sigmoid_cross_entropy(logits: jax.Array, x: jax.Array) -> jax.Array:
    """-[x log sigmoid(l) + (1 - x) log sigmoid(-l)] per element, as max(l, 0) - l x + log1p(exp(-|l|)):
    one exp and one log1p where the two log-sigmoids take two of each (6% of the MLP VAE's step).
    Its derivative is written out, sigmoid(l) - x: autodiff of max and |.| gave 0 instead of 1/2 at l = 0."""
    return jnp.maximum(logits, 0.0) - logits * x + jnp.log1p(jnp.exp(-jnp.abs(logits)))


@sigmoid_cross_entropy.defjvp
def _sigmoid_cross_entropy_jvp(primals, tangents):
    logits, x = primals
    logits_dot, x_dot = tangents
    value = sigmoid_cross_entropy(logits, x)
    return value, (jax.nn.sigmoid(logits) - x) * logits_dot - logits * x_dot


def bernoulli_log_likelihood(logits: jax.Array, x: jax.Array) -> jax.Array:
    """log p(x) of binary x under independent Bernoulli(sigmoid(logits)), summed over the last axis."""
    return -jnp.sum(sigmoid_cross_entropy(logits, x), axis=-1)


# ----------------------------------------------------------------------------------------- AE variants


def pixel_dropout(key: jax.Array, images: jax.Array, rate: float) -> jax.Array:
    """Masking noise of the denoising AE (Vincent et al. 2008): each pixel set to 0 with probability rate."""
    return jnp.where(jax.random.bernoulli(key, rate, images.shape), 0.0, images)


def l2_code_penalty(codes: jax.Array) -> jax.Array:
    """Mean squared code value per example [B] (the seeds' L2 latent penalty, before its weight)."""
    return jnp.mean(jnp.square(codes), axis=-1)


def l1_code_penalty(codes: jax.Array) -> jax.Array:
    """Mean absolute code value per example [B] (the sparse AE's L1 penalty, before its weight)."""
    return jnp.mean(jnp.abs(codes), axis=-1)
