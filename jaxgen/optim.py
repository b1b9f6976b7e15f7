"""Optimizers from the config, and optimizer tricks written as optax transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

# optim.schedule values whose rate at a step depends on train.num_steps (a resume may not change the length)
LENGTH_SCHEDULES = ("cosine", "linear_tail")


def learning_rate(optim: ml_collections.ConfigDict, num_steps: int) -> optax.Schedule:
    """Constant, cosine decay to zero over the run, constant for the first half and then linear to zero
    (CycleGAN and pix2pix's: 100 epochs at the rate, 100 decaying), or halved every optim.halve_every
    updates (optim.schedule)."""
    if optim.schedule == "cosine":
        return optax.cosine_decay_schedule(optim.lr, max(num_steps, 1))
    if optim.schedule == "linear_tail":
        hold = num_steps // 2
        decay = optax.linear_schedule(optim.lr, 0.0, max(num_steps - hold, 1))
        return optax.join_schedules([optax.constant_schedule(optim.lr), decay], [hold])
    if optim.schedule == "halving":
        return optax.exponential_decay(optim.lr, optim.halve_every, 0.5, staircase=True)
    return optax.constant_schedule(optim.lr)


def make_optimizer(optim: ml_collections.ConfigDict, num_steps: int) -> optax.GradientTransformation:
    """The optimizer every network gets unless its family wraps it (e.g. WGAN's clipping).

    The schedule counts this network's own updates, so a critic updated 5x per step decays 5x faster.
    """
    lr = learning_rate(optim, num_steps)
    if optim.name == "adam":
        opt = optax.adam(lr, b1=optim.b1, b2=optim.b2, eps=optim.eps, eps_root=optim.eps_root)
    elif optim.name == "rmsprop":
        # PyTorch's RMSprop (used by the WGAN reference code): eps outside the square root.
        opt = optax.rmsprop(
            lr, decay=optim.decay, eps=1e-8, eps_in_sqrt=False, momentum=optim.momentum or None
        )
    elif optim.name == "sgd":
        opt = optax.sgd(lr, momentum=optim.momentum or None)
    else:
        raise ValueError(f"optim.name={optim.name!r} is not an optimizer")
    if optim.weight_decay:
        opt = optax.chain(opt, optax.add_decayed_weights(-optim.lr * optim.weight_decay))
    return opt


def freeze(is_frozen) -> optax.GradientTransformation:
    """Zero the update of every param whose path ('DownStack_0/Conv_0/kernel') is_frozen: chain it last,
    so no optimizer state or weight decay moves a frozen param."""

    def init_fn(params):
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        del params

        def zero_frozen(path, update):
            return jnp.zeros_like(update) if is_frozen(param_path(path)) else update

        return jax.tree_util.tree_map_with_path(zero_frozen, updates), state

    return optax.GradientTransformation(init_fn, update_fn)


def param_path(path) -> str:
    """A pytree path of dict keys as 'a/b/c'."""
    return "/".join(str(getattr(k, "key", k)) for k in path)


def clip_params(limit: float) -> optax.GradientTransformation:
    """Keep every parameter in [-limit, limit] after the update (WGAN weight clipping, arXiv:1701.07875).

    Chain it last: it rewrites the update u into clip(p + u) - p, so `optax.apply_updates` lands on the
    clipped value (up to one float rounding).
    """

    def init_fn(params):
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("clip_params needs params")
        clipped = jax.tree.map(lambda p, u: jnp.clip(p + u, -limit, limit) - p, params, updates)
        return clipped, state

    return optax.GradientTransformation(init_fn, update_fn)
