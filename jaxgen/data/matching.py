"""Labels for an unlabelled domain from the shape of both domains' data: Gromov-Wasserstein matching.

A distribution-matching loss (UNIT's GANs, cycles and shared latent) is met by any one-to-one matching of
two domains' digits, so it cannot tell which rotated digit is which (experiments/README.md). Gromov-
Wasserstein optimal transport (Mémoli 2011; entropic form: Peyré, Cuturi & Solomon 2016, ICML) matches two
sets of points by their distances *within* each set: a transform that keeps distances between images (a
quarter turn or any other permutation of pixels, a negative) keeps the matching, whatever the transform is.
It reads the images of both domains and domain A's labels, never a label of domain B.

`matched_labels` labels `count` images of domain B by the digits of the domain-A images the coupling sends
them to, then every other image of B by its nearest matched B image (pixel distance within domain B).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import metrics
from jaxgen.data import to_float

METHODS = ("gromov_wasserstein",)


def normalised_distances(images: jax.Array) -> jax.Array:
    """Euclidean distances [N, N] between images [N, ...] (flattened), divided by their mean so that two
    domains' distances compare whatever their pixel scales. Differences, not the expanded form of the
    squared norm, which loses small distances in float32."""
    flat = images.reshape(images.shape[0], -1)
    squared = jax.lax.map(lambda row: jnp.sum(jnp.square(flat - row), axis=-1), flat)
    distances = jnp.sqrt(squared)
    return distances / jnp.mean(distances)


def sinkhorn(cost: jax.Array, epsilon: float, iterations: int) -> jax.Array:
    """The entropic optimal transport plan [N, M] between uniform marginals for cost [N, M], by Sinkhorn's
    iterations in the log domain (stable at small epsilon)."""
    n, m = cost.shape
    log_kernel = -cost / epsilon
    log_p, log_q = -jnp.log(n) * jnp.ones(n), -jnp.log(m) * jnp.ones(m)

    def iterate(_, potentials):
        f, g = potentials
        f = log_p - jax.nn.logsumexp(log_kernel + g[None, :], axis=1)
        g = log_q - jax.nn.logsumexp(log_kernel + f[:, None], axis=0)
        return f, g

    f, g = jax.lax.fori_loop(0, iterations, iterate, (jnp.zeros(n), jnp.zeros(m)))
    return jnp.exp(log_kernel + f[:, None] + g[None, :])


def gromov_wasserstein(
    distances_a: jax.Array,
    distances_b: jax.Array,
    epsilon: float,
    iterations: int = 30,
    sinkhorn_iterations: int = 200,
) -> jax.Array:
    """The entropic Gromov-Wasserstein coupling [N, M] of two distance matrices [N, N], [M, M] for the
    squared loss |d_a(i, k) - d_b(j, l)|^2 (Peyré et al. 2016, Prop. 1 and Alg. 1): each iteration solves
    the entropic transport problem whose cost is the GW loss linearised at the current coupling, starting
    from the product of the marginals. Deterministic: no random draw."""
    n, m = distances_a.shape[0], distances_b.shape[0]
    # the terms of the linearised cost that do not depend on the coupling (uniform marginals)
    constant = jnp.mean(jnp.square(distances_a), axis=1)[:, None] + jnp.mean(jnp.square(distances_b), axis=1)

    def iterate(_, coupling):
        cost = constant - 2.0 * distances_a @ coupling @ distances_b.T
        return sinkhorn(cost - jnp.min(cost), epsilon, sinkhorn_iterations)

    return jax.lax.fori_loop(0, iterations, iterate, jnp.full((n, m), 1.0 / (n * m)))


@functools.partial(jax.jit, static_argnames=("count", "classes"))
def matched_labels(
    images_a: jax.Array,
    labels_a: jax.Array,
    images_b: jax.Array,
    count: int,
    epsilon: float,
    classes: int = 10,
) -> jax.Array:
    """Labels [M] for every image of domain B [M, H, W, C] from domain A's images [N, H, W, C] and labels [N]
    (float images): the first `count` images of each domain are matched by Gromov-Wasserstein; each of those
    B images takes the digit that most of its coupling's mass lands on; the other B images take the label of
    their nearest matched B image."""
    a, b = images_a[:count], images_b[:count]
    coupling = gromov_wasserstein(normalised_distances(a), normalised_distances(b), epsilon)
    votes = coupling.T @ jax.nn.one_hot(labels_a[:count], classes)
    flat = lambda x: x.reshape(x.shape[0], -1)  # noqa: E731
    # the nearest matched image's label: a one-nearest-neighbour vote among the matched images
    found = metrics.knn_predict(flat(b), jnp.argmax(votes, axis=1), flat(images_b), k=1, num_classes=classes)
    return found.astype(jnp.int32)


def label_domain_b(
    method: str, images_a: np.ndarray, labels_a: np.ndarray, images_b: np.ndarray, count: int, epsilon: float
) -> np.ndarray:
    """`method`'s labels for domain B's uint8 training images (see matched_labels)."""
    if method not in METHODS:
        raise ValueError(f"unknown matching {method!r}; expected one of {METHODS}")
    count = min(count, len(images_a), len(images_b))
    labels = matched_labels(to_float(images_a), jnp.asarray(labels_a), to_float(images_b), count, epsilon)
    return np.asarray(labels)
