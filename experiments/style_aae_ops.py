"""Where the style AAE's step goes on the CPU: forward + gradient of each of its ops alone, batch 64, and
bf16 matmul forms of its convs (im2col, per-tap sums) beside the `cpu` lowering's float32 conv; the decoder's
up-sampling + conv pairs as two ops and as one `layers.conv_upsampled`, the pool as nn.max_pool and
`layers.max_pool`.

    python experiments/style_aae_ops.py          # ms, best of 5 x 10 calls
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from mixed_layers import best_ms  # experiments/, this script's folder

from jaxgen import layers

BATCH = 64
# (name, input shape, kernel shape, stride, padding): configs/style_aae.py's convs at 32x32 inputs
CONVS = [
    ("conv5 s2 1->16 @32", (BATCH, 32, 32, 1), (5, 5, 1, 16), 2, 2),
    ("conv3 16->32 @16", (BATCH, 16, 16, 16), (3, 3, 16, 32), 1, 1),
    ("conv3 32->32 @16", (BATCH, 16, 16, 32), (3, 3, 32, 32), 1, 1),
    ("conv3 32->4 @32", (BATCH, 32, 32, 32), (3, 3, 32, 4), 1, 1),
    ("conv3 4->1 @32", (BATCH, 32, 32, 4), (3, 3, 4, 1), 1, 1),
]


def gradient_ms(fn, *args) -> float:
    """Time of the gradient of sum(f cos f) w.r.t. every argument: a forward and a full backward."""

    def loss(*a):
        y = fn(*a)
        return jnp.sum(y * jnp.cos(y))

    return best_ms(jax.jit(jax.grad(loss, argnums=tuple(range(len(args))))), *args, repeats=5)


def windows(x, k: int, stride: int, padding: int) -> list:
    """The k*k strided windows of the padded map, each [B, Ho, Wo, C], in (i, j) order."""
    x = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    h, w = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    return [
        x[:, i : i + stride * (h - 1) + 1 : stride, j : j + stride * (w - 1) + 1 : stride, :]
        for i in range(k)
        for j in range(k)
    ]


def im2col(matmul):
    def conv(x, kernel, stride, padding):
        k, _, c_in, c_out = kernel.shape
        columns = jnp.concatenate(windows(x, k, stride, padding), axis=-1)
        return matmul(columns, kernel.reshape(k * k * c_in, c_out))

    return conv


def tap_sums(matmul):
    def conv(x, kernel, stride, padding):
        k = kernel.shape[0]
        products = [matmul(w, kernel[t // k, t % k]) for t, w in enumerate(windows(x, k, stride, padding))]
        return sum(products[1:], products[0])

    return conv


FORMS = {
    "cpu float32": layers.CONV["cpu"],
    "im2col float32": im2col(layers.float32_matmul),
    "im2col bf16": im2col(layers.mixed_matmul),
    "tap sums bf16": tap_sums(layers.mixed_matmul),
}


def main() -> None:
    rng = np.random.default_rng(0)

    def normal(*shape):
        return jnp.asarray(rng.standard_normal(shape), jnp.float32)

    print("| conv (forward + gradient, ms) | " + " | ".join(FORMS) + " |")
    print("|---|" + "---|" * len(FORMS))
    for name, x_shape, k_shape, stride, padding in CONVS:
        x, kernel = normal(*x_shape), 0.1 * normal(*k_shape)
        times = [
            gradient_ms(lambda x, k, f=form, s=stride, p=padding: f(x, k, s, p), x, kernel)
            for form in FORMS.values()
        ]
        print(f"| {name} | " + " | ".join(f"{t:.2f}" for t in times) + " |", flush=True)
    for channels, groups, size in [(16, 4, 16), (32, 8, 16), (4, 2, 32)]:
        norm, x = nn.GroupNorm(num_groups=groups, epsilon=1e-5), normal(BATCH, size, size, channels)
        variables = norm.init(jax.random.key(0), x)
        ms = gradient_ms(lambda x, v, norm=norm: nn.relu(norm.apply(v, x)), x, variables)
        print(f"| GroupNorm + ReLU, {channels} channels @{size} | {ms:.2f} |")
    pool = lambda x: nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))  # noqa: E731
    print(f"| max-pool 3 s2 @16 (nn.max_pool) | {gradient_ms(pool, normal(BATCH, 16, 16, 32)):.2f} |")
    ours = lambda x: layers.max_pool(x, 3, 2, 1)  # noqa: E731
    print(f"| max-pool 3 s2 @16 (layers.max_pool) | {gradient_ms(ours, normal(BATCH, 16, 16, 32)):.2f} |")
    # the decoder's up-sampling + conv3 pairs: as two ops, and as layers.conv_upsampled on the small map
    for size, c_in, c_out in [(8, 32, 32), (16, 32, 4)]:
        x, kernel = normal(BATCH, size, size, c_in), 0.1 * normal(3, 3, c_in, c_out)
        cpu = layers.CONV["cpu"]
        pair = lambda x, k, cpu=cpu: cpu(jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2), k, 1, 1)  # noqa: E731
        fused = lambda x, k, cpu=cpu: layers.conv_upsampled(x, k, cpu)  # noqa: E731
        both = [gradient_ms(f, x, kernel) for f in (pair, fused)]
        print(
            f"| up-sampling + conv3 {c_in}->{c_out} @{size}: two ops / conv_upsampled "
            f"| {both[0]:.2f} / {both[1]:.2f} |"
        )
    for size in (8, 16):
        up = lambda x: jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)  # noqa: E731
        print(f"| up-sampling 2x @{size} | {gradient_ms(up, normal(BATCH, size, size, 32)):.2f} |")


if __name__ == "__main__":
    main()
