"""Priors an adversarial autoencoder can impose on its codes (Makhzani et al. 2015, arXiv:1511.05644, fig. 4).

Each prior is a sampler `(key, n, dim) -> codes [n, dim]`. The AAE's discriminator sees these samples as
"real" and the encoder's codes as "fake", so the prior needs no density, only samples. 'gaussian' works in
any dimension; the others are 2-D shapes meant for the 2-D code pictures, at a scale of a few units like
N(0, I).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

Prior = Callable[[jax.Array, int, int], jax.Array]

MIXTURE_COMPONENTS = 10
MIXTURE_RADIUS = 3.0  # distance of each component's mean from the origin
MIXTURE_STD = (0.5, 0.1)  # (radial, tangential) standard deviations: the paper's elongated petals
TRIANGLE_RADIUS = 3.0  # the vertices' distance from the origin
DONUT_RADII = (2.0, 3.0)  # inner and outer radius of the annulus
SWISS_ROLL_TURNS = 1.5
SWISS_ROLL_RADII = (0.5, 3.5)  # radius at the start and at the end of the spiral
SWISS_ROLL_NOISE = 0.1


def gaussian(key: jax.Array, n: int, dim: int) -> jax.Array:
    """N(0, I) in `dim` dimensions."""
    return jax.random.normal(key, (n, dim))


def uniform(key: jax.Array, n: int, dim: int) -> jax.Array:
    """Uniform on (-1, 1) in every dimension: the noise of the InfoGAN and BEGAN papers' generators."""
    return jax.random.uniform(key, (n, dim), minval=-1.0, maxval=1.0)


# the noise a GAN's generator can draw (model.noise of the families that offer the choice)
NOISES: dict[str, Prior] = {"uniform": uniform, "normal": gaussian}


def _rotate(points: jax.Array, angles: jax.Array) -> jax.Array:
    cos, sin = jnp.cos(angles), jnp.sin(angles)
    return jnp.stack([cos * points[:, 0] - sin * points[:, 1], sin * points[:, 0] + cos * points[:, 1]], -1)


def mixture(key: jax.Array, n: int, dim: int) -> jax.Array:
    """10 Gaussians equally likely, their means on a circle, each stretched along its radius."""
    _require_2d("mixture", dim)
    component_key, noise_key = jax.random.split(key)
    return mixture_parts(noise_key, jax.random.randint(component_key, (n,), 0, MIXTURE_COMPONENTS))


def mixture_parts(key: jax.Array, parts: jax.Array) -> jax.Array:
    """Draws [n, 2] of the mixture, each from the component parts [n] names (0..9)."""
    local = jax.random.normal(key, (parts.shape[0], 2)) * jnp.asarray(MIXTURE_STD) + jnp.asarray(
        [MIXTURE_RADIUS, 0.0]
    )
    return _rotate(local, 2.0 * math.pi * parts / MIXTURE_COMPONENTS)


def triangle(key: jax.Array, n: int, dim: int) -> jax.Array:
    """Uniform over an equilateral triangle centred on the origin."""
    _require_2d("triangle", dim)
    angles = jnp.asarray([0.5 * math.pi + 2.0 * math.pi * i / 3 for i in range(3)])
    vertices = TRIANGLE_RADIUS * jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)  # [3, 2]
    u = jax.random.uniform(key, (n, 2))
    # fold the unit square onto the lower triangle u1 + u2 <= 1: uniform barycentric coordinates
    flip = u.sum(-1, keepdims=True) > 1.0
    u = jnp.where(flip, 1.0 - u, u)
    return vertices[0] + u[:, :1] * (vertices[1] - vertices[0]) + u[:, 1:] * (vertices[2] - vertices[0])


def donut(key: jax.Array, n: int, dim: int) -> jax.Array:
    """Uniform over the annulus DONUT_RADII."""
    _require_2d("donut", dim)
    return annulus(key, n, *DONUT_RADII)


def annulus(key: jax.Array, n: int, inner: float, outer: float) -> jax.Array:
    """n points [n, 2] uniform over the area between radii inner and outer (r^2 uniform; inner 0: a disc)."""
    radius_key, angle_key = jax.random.split(key)
    radius = jnp.sqrt(jax.random.uniform(radius_key, (n,), minval=inner**2, maxval=outer**2))
    angle = jax.random.uniform(angle_key, (n,), maxval=2.0 * math.pi)
    return jnp.stack([radius * jnp.cos(angle), radius * jnp.sin(angle)], -1)


def swiss_roll(key: jax.Array, n: int, dim: int) -> jax.Array:
    """A noisy spiral whose radius grows with the angle; t = sqrt(u) gives the long outer turns more mass."""
    _require_2d("swiss_roll", dim)
    position_key, noise_key = jax.random.split(key)
    return _roll(jnp.sqrt(jax.random.uniform(position_key, (n,))), noise_key)


def swiss_roll_parts(key: jax.Array, parts: jax.Array) -> jax.Array:
    """Draws [n, 2] of the swiss roll, each from the tenth of its mass that parts [n] names (0..9): part k
    is the stretch sqrt(k / 10) <= t < sqrt((k + 1) / 10), so the ten parts together are the whole roll."""
    position_key, noise_key = jax.random.split(key)
    u = (parts + jax.random.uniform(position_key, parts.shape)) / LABELLED_PARTS
    return _roll(jnp.sqrt(u), noise_key)


def _roll(t: jax.Array, noise_key: jax.Array) -> jax.Array:
    """Points of the spiral at positions t [n] in [0, 1], with Gaussian noise."""
    start, end = SWISS_ROLL_RADII
    radius, angle = start + (end - start) * t, 2.0 * math.pi * SWISS_ROLL_TURNS * t
    points = jnp.stack([radius * jnp.cos(angle), radius * jnp.sin(angle)], -1)
    return points + SWISS_ROLL_NOISE * jax.random.normal(noise_key, (t.shape[0], 2))


# Priors split into one part per digit (paper section 2.3, fig. 4): `(key, parts [n]) -> codes [n, 2]`,
# the parts equally likely, so that drawing uniform parts is drawing the prior
LABELLED_PARTS = 10
PARTS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "mixture": mixture_parts,
    "swiss_roll": swiss_roll_parts,
}

PRIORS: dict[str, Prior] = {
    "gaussian": gaussian,
    "mixture": mixture,
    "triangle": triangle,
    "donut": donut,
    "swiss_roll": swiss_roll,
}


def _require_2d(name: str, dim: int) -> None:
    if dim != 2:
        raise ValueError(f"model.prior={name!r} is a 2-D shape: it needs model.latent_dim=2, not {dim}")


def prior_problem(name: str, dim: int, by_label: bool = False) -> str | None:
    """Why this prior cannot be drawn in `dim` dimensions (or split by label), a message naming the fields,
    or None."""
    if name not in PRIORS:
        return f"model.prior={name!r} is not a prior; choose one of {sorted(PRIORS)}"
    if name != "gaussian" and dim != 2:
        return f"model.prior={name!r} is a 2-D shape: it needs model.latent_dim=2, not {dim}"
    if by_label and name not in PARTS:
        return f"model.label_prior needs a prior with one part per digit: model.prior in {sorted(PARTS)}"
    return None
