"""Shared Flax blocks: convolutions with a backend-chosen lowering, DCGAN down/up stacks.

Convolutions keep one parameter layout (kernel [k, k, C_in, C_out], PyTorch's geometry: `o = s*i - p + t`
for the transposed conv, so kernels are not flipped as Flax's `ConvTranspose` would need) and two lowerings:

- "xla": `lax.conv_general_dilated` for the forward pass and its autodiff; best where cuDNN / TPU
  convolutions exist.
- "cpu": XLA:CPU runs transposed convs, their weight gradients and the input gradient of convs on tiny
  maps through slow paths (up to 12x slower than the matmul they amount to). This lowering picks, per op
  and shape, the fastest of: XLA's conv, strided slices + one matmul (im2col), or four 2x2 sub-pixel
  phases for a k4 s2 p1 transposed conv, and writes the backward pass through the adjoint identities
  (the input gradient of a strided conv is a transposed conv of the output gradient, and vice versa).
  Every conv it emits, gradients included, is in XLA:CPU's canonical form (NHWC x HWIO -> NHWC): XLA:CPU
  canonicalises only the convs of a program's top level, so a conv with other dimension numbers inside a
  loop or a branch (the weight gradient autodiff writes) ran on its naive emitter, 45x slower.
  The per-op timings behind each rule are in experiments/README.md.

Mixed precision (`ConvOptions.dtype='bfloat16'`, chosen per machine by jaxgen/precision.py): XLA:CPU's
conv emitter gains nothing from bf16 operands, but its dots reach the bf16 units (AVX-512 bf16, AMX) when
they accumulate in float32. So on the CPU a k4 s2 p1 conv becomes one bf16 matmul over its 4x4 windows
(`k4s2_columns`), a transposed one four phase sums of per-tap matmuls, a stride-1 conv into many
channels on a small map one im2col matmul, each with a backward made of the same matmuls (`mixed_matmul`
multiplies the cotangent in bf16 too). `dense` is nn.Dense with the same bf16 product, for the MLP models
(`ConvOptions.dense_dtype`); on the CPU its backward's products read copies of their transposed operands,
which keeps them bf16 dots too.

Tests check both lowerings (values and gradients) against each other and against a loop definition.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

DN = ("NHWC", "HWIO", "NHWC")
dcgan_init = nn.initializers.normal(0.02)  # DCGAN paper: weights from N(0, 0.02)


def resolve_conv_impl(impl: str) -> str:
    """Map 'auto' to the faster lowering for the default backend ('cpu' on CPU, 'xla' elsewhere); 'matmul'
    is for programs vmapped over parameters on the CPU (jaxgen.train.train_seeds picks it)."""
    if impl != "auto":
        return impl
    return "cpu" if jax.default_backend() == "cpu" else "xla"


# ----------------------------------------------------------------------------------------- pure conv ops


def conv_xla(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """Reference strided convolution, NHWC x HWIO -> NHWC."""
    pad = [(padding, padding)] * 2
    return jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), pad, dimension_numbers=DN, preferred_element_type=jnp.float32
    )


def im2col(x: jax.Array, k: int, stride: int, padding: int) -> jax.Array:
    """[B, H, W, C] -> [B, Ho, Wo, k*k*C]: the k*k strided windows of the padded map side by side, in
    (i, j, c) order (the HWIO kernel's rows); k4 s2 p1 windows of an even-sized map through `k4s2_columns`,
    which joins along rows and columns instead of channels."""
    if (k, stride, padding) == (4, 2, 1) and not (x.shape[1] % 2 or x.shape[2] % 2):
        return k4s2_columns(x)
    x = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    h_out = (x.shape[1] - k) // stride + 1
    w_out = (x.shape[2] - k) // stride + 1
    patches = [
        x[:, i : i + stride * (h_out - 1) + 1 : stride, j : j + stride * (w_out - 1) + 1 : stride, :]
        for i in range(k)
        for j in range(k)
    ]
    return jnp.concatenate(patches, axis=-1)


def conv_matmul(x: jax.Array, kernel: jax.Array, stride: int, padding: int, matmul=None) -> jax.Array:
    """Same result as conv_xla: gather the k*k strided windows (im2col) and multiply once (`matmul`:
    float32_matmul by default, mixed_matmul for bf16 operands)."""
    k, _, c_in, c_out = kernel.shape
    columns = im2col(x, k, stride, padding)
    return (matmul or float32_matmul)(columns, kernel.reshape(k * k * c_in, c_out))


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 3))
def mixed_layout_matmul(layout, x: jax.Array, w: jax.Array, as_bits: bool = False) -> jax.Array:
    """mixed_matmul(layout(x), w) for a `layout` that only moves elements (im2col, `k4s2_columns`), with x
    cast to bf16 before the layout instead of the columns after it, and the columns' cotangent summed back
    into x's in float32.

    XLA:CPU computes bf16 pads, slices and concatenations in float32, so cast bf16 columns were still
    written in float32 and cast in a pass of their own; `as_bits` moves them as their uint16 bit patterns,
    which it keeps 2 bytes wide. That paid for im2col (slices and one concatenation) and lost for
    `k4s2_columns` (a transpose of 2-byte elements), which takes the plain cast (experiments/README.md)."""
    return _mixed_layout_matmul_fwd(layout, x, w, as_bits)[0]


def _bf16_columns(layout, x: jax.Array, as_bits: bool) -> jax.Array:
    x = x.astype(jnp.bfloat16)
    if not as_bits:
        return layout(x)
    columns = layout(jax.lax.bitcast_convert_type(x, jnp.uint16))
    return jax.lax.bitcast_convert_type(columns, jnp.bfloat16)


def _mixed_layout_matmul_fwd(layout, x, w, as_bits):
    columns, w = _bf16_columns(layout, x, as_bits), w.astype(jnp.bfloat16)
    return jnp.matmul(columns, w, preferred_element_type=jnp.float32), (x, columns, w)


def _mixed_layout_matmul_bwd(layout, as_bits, residuals, g):
    x, columns, w = residuals
    d_columns, dw = _products_backward(columns, w, g)
    (dx,) = jax.linear_transpose(layout, jax.ShapeDtypeStruct(x.shape, jnp.float32))(d_columns)
    return dx.astype(x.dtype), dw


mixed_layout_matmul.defvjp(_mixed_layout_matmul_fwd, _mixed_layout_matmul_bwd)


def conv_transpose_xla(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """Reference transposed conv with PyTorch geometry (output = (H-1)*s - 2p + k)."""
    k = kernel.shape[0]
    pad = [(k - 1 - padding, k - 1 - padding)] * 2
    flipped = kernel[::-1, ::-1]
    return jax.lax.conv_general_dilated(
        x, flipped, (1, 1), pad, lhs_dilation=(stride, stride), dimension_numbers=DN,
        preferred_element_type=jnp.float32,
    )  # fmt: skip


def float32_matmul(x: jax.Array, w: jax.Array) -> jax.Array:
    """[..., K] @ [K, N] -> [..., N], accumulating in float32."""
    return jnp.matmul(x, w, preferred_element_type=jnp.float32)


def mixed_matmul(x: jax.Array, w: jax.Array, copy_transposes: bool = False) -> jax.Array:
    """[..., K] @ [K, N] -> [..., N] float32 from bfloat16 operands, accumulating in float32; the
    gradients come back as float32 sums, in x's and w's dtypes.

    XLA:CPU reaches the bf16 units only through such a dot in the plain [M, K] x [K, N] form; the
    backward's two products each read one operand transposed, and for the MLP models' dense layers XLA:CPU
    compiled them as float32 dots, widening their bf16 operands. `copy_transposes` has them read copies
    made transposed (`_materialised_transpose`), which it runs as bf16 dots: on an AMD EPYC the mixed
    step of the MLP AE -21%, the VAE -15% and the AAE -12% against a backward on the float32 operands. The
    conv layers' products, whose columns and taps XLA lays out itself, compiled to bf16 dots without the
    copies, and were no faster with them (experiments/README.md)."""
    return _bf16_matmul(copy_transposes, x.dtype, w.dtype, x, w)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _bf16_matmul(copy_transposes: bool, x_dtype, w_dtype, x: jax.Array, w: jax.Array) -> jax.Array:
    return _bf16_matmul_fwd(copy_transposes, x_dtype, w_dtype, x, w)[0]


def _bf16_matmul_fwd(copy_transposes, x_dtype, w_dtype, x, w):
    x_bf16, w_bf16 = x.astype(jnp.bfloat16), w.astype(jnp.bfloat16)
    return jnp.matmul(x_bf16, w_bf16, preferred_element_type=jnp.float32), (x_bf16, w_bf16)


def _products_backward(
    x: jax.Array, w: jax.Array, g: jax.Array, copy_transposes: bool = False
) -> tuple[jax.Array, jax.Array]:
    """(dx, dw) of x @ w for x [..., K] and w [K, N] and the cotangent g, as float32 sums of the products
    in x's dtype (g cast to it): autodiff would multiply a float32 cotangent by a bf16 operand as a
    float32 dot. copy_transposes: dx = g wᵀ reads a copy of wᵀ (small), and dw = xᵀ g the cheaper copy of
    the two that give it: xᵀ (M K elements of x's dtype), or gᵀ and the float32 result's transpose, dw =
    (gᵀ x)ᵀ (M N and K N)."""
    g = g.astype(x.dtype)
    if not copy_transposes:
        dx = jnp.matmul(g, w.T, preferred_element_type=jnp.float32)
        rows = (tuple(range(x.ndim - 1)),) * 2  # contract every leading axis of x and g
        return dx, jax.lax.dot_general(x, g, (rows, ((), ())), preferred_element_type=jnp.float32)
    dx = jnp.matmul(g, _materialised_transpose(w), preferred_element_type=jnp.float32)
    x2, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    (m, k), n = x2.shape, g2.shape[1]
    if m * k * x2.dtype.itemsize <= m * n * g2.dtype.itemsize + n * k * 4:  # bytes each form copies
        return dx, jnp.matmul(_materialised_transpose(x2), g2, preferred_element_type=jnp.float32)
    dw_transposed = jnp.matmul(_materialised_transpose(g2), x2, preferred_element_type=jnp.float32)
    return dx, _materialised_transpose(dw_transposed)


def _materialised_transpose(a: jax.Array) -> jax.Array:
    """a.T of a 2-d array, written so that XLA:CPU copies it rather than folding the transpose into the dot
    that reads it (which would leave that dot a transposed operand): as a 3-d transpose. Behind
    `lax.optimization_barrier` a plain transpose was copied, but widened to float32 on the way."""
    return jnp.transpose(a[..., None], (1, 0, 2)).reshape(a.shape[1], a.shape[0])


def _bf16_matmul_bwd(copy_transposes, x_dtype, w_dtype, operands, g):
    dx, dw = _products_backward(*operands, g, copy_transposes)
    return dx.astype(x_dtype), dw.astype(w_dtype)


_bf16_matmul.defvjp(_bf16_matmul_fwd, _bf16_matmul_bwd)

MIXED_DENSE_MIN_INPUTS = 64  # narrower products (2-d codes, one-hot labels) stay float32: they cost nothing


def _mixed_dense_dot(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """nn.Dense's dot_general ([..., K] x [K, N]) as mixed_matmul; float32 below MIXED_DENSE_MIN_INPUTS."""
    assert dimension_numbers == (((lhs.ndim - 1,), (0,)), ((), ())), dimension_numbers
    if lhs.shape[-1] < MIXED_DENSE_MIN_INPUTS:
        return float32_matmul(lhs, rhs)
    return mixed_matmul(lhs, rhs, copy_transposes=jax.default_backend() == "cpu")


def dense(features: int, dtype: str = "float32", **kwargs) -> nn.Dense:
    """nn.Dense whose product takes `dtype` operands ('bfloat16': bf16 copies of input and kernel, summed in
    float32 by mixed_matmul, which reaches the CPU's bf16 units); parameters and outputs stay float32, and
    the parameter names are nn.Dense's, so checkpoints do not depend on the dtype."""
    return nn.Dense(features, dot_general=_mixed_dense_dot if dtype == "bfloat16" else None, **kwargs)


def k4s2_columns(x: jax.Array) -> jax.Array:
    """[B, H, W, C] (H, W even) -> [B, H/2, W/2, 16 C]: output (h, w)'s 4x4 window of the map padded by 1,
    in the kernel's (row, column, C) order.

    Window rows 2h .. 2h+3 are the row pairs h and h+1, so the windows are two shifted views of the row
    pairs joined along a rows axis, the same for the columns, then one transpose that puts the channels
    last. XLA:CPU joins along the channel (minor) axis slowly: the 2x2-block form that joined four shifted
    block views there took about twice as long to build (experiments/README.md)."""
    b, h, w, c = x.shape
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    pairs = xp.reshape(b, h // 2 + 1, 2, w + 2, c)  # [B, row pair, row in the pair, W + 2, C]
    rows = jnp.concatenate([pairs[:, :-1], pairs[:, 1:]], axis=2)  # [B, H/2, 4 window rows, W + 2, C]
    pairs = rows.reshape(b, h // 2, 4, w // 2 + 1, 2, c)
    windows = jnp.concatenate([pairs[:, :, :, :-1], pairs[:, :, :, 1:]], axis=4)  # [B, H/2, 4, W/2, 4, C]
    return windows.transpose(0, 1, 3, 2, 4, 5).reshape(b, h // 2, w // 2, 16 * c)


def _phase_taps(x: jax.Array, kernel: jax.Array) -> dict:
    """The four (input window, kernel tap) pairs of each output phase (a, c) of a k4 s2 p1 transposed conv:
    output row 2m+a (a in {0, 1}) sums input rows m+a+d-1 (d in {0, 1}) through kernel row 3-a-2d; columns
    likewise."""
    h, w = x.shape[1:3]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return {
        (a, c): [
            (xp[:, a + d : a + d + h, c + e : c + e + w, :], kernel[3 - a - 2 * d, 3 - c - 2 * e])
            for d in (0, 1)
            for e in (0, 1)
        ]
        for a in (0, 1)
        for c in (0, 1)
    }


def _interleave(phases: dict) -> jax.Array:
    """Output phases {(a, c): [B, H, W, C]} -> [B, 2H, 2W, C], phase (a, c) at rows 2m+a, columns 2n+c."""
    b, h, w, channels = phases[0, 0].shape
    rows = [jnp.stack([phases[a, 0], phases[a, 1]], axis=3) for a in (0, 1)]  # [B, H, W, 2(c), C]
    return jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * w, channels)  # from [B, H, 2(a), W, 2(c), C]


def conv_transpose_phases(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """conv_transpose_xla for k=4, s=2, p=1 as four sub-pixel phases of 2x2 taps, one matmul each."""
    c_in, c_out = kernel.shape[2:]
    phases = {}
    for phase, pairs in _phase_taps(x, kernel).items():
        columns = jnp.concatenate([window for window, _ in pairs], axis=-1)
        weights = jnp.stack([tap for _, tap in pairs])
        phases[phase] = float32_matmul(columns, weights.reshape(4 * c_in, c_out))
    return _interleave(phases)


def _swap_io(kernel: jax.Array) -> jax.Array:
    """[k, k, C_in, C_out] -> [k, k, C_out, C_in]: the kernel of the adjoint operator."""
    return jnp.swapaxes(kernel, 2, 3)


def _is_k4s2p1(kernel: jax.Array, stride: int, padding: int) -> bool:
    return kernel.shape[0] == 4 and kernel.shape[1] == 4 and stride == 2 and padding == 1


def _tiny_map(x: jax.Array) -> bool:
    # At <= 4x4 inputs, XLA:CPU's conv gradients take its slow path (248 ms vs 19 ms for im2col, conv4).
    return x.shape[1] * x.shape[2] <= 16


# Three bilinear ops closed under differentiation, each one canonical conv (NHWC x HWIO -> NHWC): a strided
# conv, its input gradient (the transposed conv) and its kernel gradient. The derivative of each is made of
# the three, so gradients of any order (WGAN-GP's penalty is a second one) stay canonical in loop bodies.
# Each forward rule calls its op itself, so an outer derivative of a forward pass takes the custom rule too.


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_canonical(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """conv_xla, whose derivatives of every order are canonical convs."""
    return conv_xla(x, kernel, stride, padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv_input_gradient(g: jax.Array, kernel: jax.Array, stride: int, padding: int, size) -> jax.Array:
    """The input gradient of conv_xla(x, kernel, stride, padding) for x of spatial size `size` (the
    transposed conv of g): g dilated by the stride, correlated with the flipped kernel. Rows of x that no
    output reads get zero."""
    k = kernel.shape[0]
    ends = [n_in + padding - 1 - (n_out - 1) * stride for n_in, n_out in zip(size, g.shape[1:3], strict=True)]
    return jax.lax.conv_general_dilated(
        g.astype(kernel.dtype),
        _swap_io(kernel[::-1, ::-1]),
        (1, 1),
        [(k - 1 - padding, end) for end in ends],
        lhs_dilation=(stride, stride),
        dimension_numbers=DN,
        preferred_element_type=jnp.float32,
    )


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv_kernel_gradient(x: jax.Array, g: jax.Array, k: int, stride: int, padding: int) -> jax.Array:
    """The kernel gradient of conv_xla(x, kernel, stride, padding) for the output cotangent g: the input's
    channels take the batch axis and the batch is contracted
    (dK[i, j, c, o] = sum over b, h, w of x_padded[b, s*h + i, s*w + j, c] * g[b, h, w, o])."""
    ends = [
        k + (n_out - 1) * stride - n_in - padding
        for n_in, n_out in zip(x.shape[1:3], g.shape[1:3], strict=True)
    ]
    out = jax.lax.conv_general_dilated(
        jnp.transpose(x, (3, 1, 2, 0)),  # [C_in, H, W, B]
        jnp.transpose(g, (1, 2, 0, 3)).astype(x.dtype),  # [H_out, W_out, B, C_out]
        (1, 1),
        [(padding, end) for end in ends],  # `end` < padding drops rows that no output reads
        rhs_dilation=(stride, stride),
        dimension_numbers=DN,
        preferred_element_type=jnp.float32,
    )  # [C_in, k, k, C_out]
    return jnp.transpose(out, (1, 2, 0, 3))


def _conv_vjp(stride, padding, residuals, g):
    x, kernel = residuals
    dx = conv_input_gradient(g, kernel, stride, padding, x.shape[1:3])
    dkernel = conv_kernel_gradient(x, g, kernel.shape[0], stride, padding)
    return dx.astype(x.dtype), dkernel.astype(kernel.dtype)


def _input_gradient_vjp(stride, padding, size, residuals, c):
    # <input_gradient(g, K), c> = <g, conv(c, K)>
    g, kernel = residuals
    dg = conv_canonical(c.astype(kernel.dtype), kernel, stride, padding)
    dkernel = conv_kernel_gradient(c.astype(kernel.dtype), g, kernel.shape[0], stride, padding)
    return dg.astype(g.dtype), dkernel.astype(kernel.dtype)


def _kernel_gradient_vjp(k, stride, padding, residuals, d):
    # <kernel_gradient(x, g), D> = <conv(x, D), g>
    x, g = residuals
    d = d.astype(x.dtype)
    dx = conv_input_gradient(g, d, stride, padding, x.shape[1:3])
    dg = conv_canonical(x, d, stride, padding)
    return dx.astype(x.dtype), dg.astype(g.dtype)


conv_canonical.defvjp(lambda x, kernel, s, p: (conv_canonical(x, kernel, s, p), (x, kernel)), _conv_vjp)
conv_input_gradient.defvjp(
    lambda g, kernel, s, p, size: (conv_input_gradient(g, kernel, s, p, size), (g, kernel)),
    _input_gradient_vjp,
)
conv_kernel_gradient.defvjp(
    lambda x, g, k, s, p: (conv_kernel_gradient(x, g, k, s, p), (x, g)), _kernel_gradient_vjp
)


def _conv_forward_cpu(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv_matmul(x, kernel, 2, 1) if _tiny_map(x) else conv_canonical(x, kernel, 2, 1)


def _conv_transpose_forward_cpu(x: jax.Array, kernel: jax.Array) -> jax.Array:
    # XLA's transposed conv forward is fast except into many channels from tiny maps.
    if _tiny_map(x) and kernel.shape[-1] >= 8:
        return conv_transpose_phases(x, kernel)
    return conv_input_gradient(x, _swap_io(kernel), 2, 1, (2 * x.shape[1], 2 * x.shape[2]))


def _with_backward(forward, backward):
    """forward(x, kernel) whose VJP is backward(x, kernel, g) -> (dx, dkernel)."""
    op = jax.custom_vjp(forward)
    op.defvjp(lambda x, kernel: (op(x, kernel), (x, kernel)), lambda res, g: backward(*res, g))
    return op


def _conv_backward_cpu(x, kernel, g):
    dx = _conv_transpose_forward_cpu(g.astype(kernel.dtype), _swap_io(kernel))  # adjoint of a strided conv
    return dx.astype(x.dtype), conv_kernel_gradient(x, g, 4, 2, 1).astype(kernel.dtype)


def _conv_transpose_backward_cpu(x, kernel, g):
    g = g.astype(kernel.dtype)
    dx = _conv_forward_cpu(g, _swap_io(kernel))  # adjoint of a transposed conv
    # <convT(x, W), g> = <x, conv(g, W^T)>: the kernel gradient is that of a strided conv of g.
    dkernel = conv_kernel_gradient(g, x.astype(g.dtype), 4, 2, 1)
    return dx.astype(x.dtype), _swap_io(dkernel).astype(kernel.dtype)


_conv_cpu = _with_backward(_conv_forward_cpu, _conv_backward_cpu)
_conv_transpose_cpu = _with_backward(_conv_transpose_forward_cpu, _conv_transpose_backward_cpu)


def conv_cpu(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """Same result as conv_xla, lowered for XLA:CPU (see the module docstring)."""
    if not _is_k4s2p1(kernel, stride, padding) or x.shape[1] % 2 or x.shape[2] % 2:
        return conv_canonical(x, kernel, stride, padding)  # its adjoint forms assume even maps
    if _tiny_map(x):
        return conv_matmul(x, kernel, 2, 1)  # im2col and its autodiff: fastest at this size
    return _conv_cpu(x, kernel)


def conv_transpose_cpu(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """Same result as conv_transpose_xla, lowered for XLA:CPU (see the module docstring)."""
    if not _is_k4s2p1(kernel, stride, padding):
        k = kernel.shape[0]
        size = tuple((n - 1) * stride - 2 * padding + k for n in x.shape[1:3])
        return conv_input_gradient(x, _swap_io(kernel), stride, padding, size)
    return _conv_transpose_cpu(x, kernel)


def conv_transpose_matmul(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
    """Same result as conv_transpose_xla, from matmuls only (sub-pixel phases for k4 s2 p1)."""
    if not _is_k4s2p1(kernel, stride, padding):
        return conv_transpose_xla(x, kernel, stride, padding)
    return conv_transpose_phases(x, kernel)


def conv_transpose_tap_sums(x: jax.Array, kernel: jax.Array, matmul=float32_matmul) -> jax.Array:
    """conv_transpose_phases with each phase a sum of four matmuls, one per tap, instead of one matmul
    over the four taps concatenated: XLA:CPU copies a concatenation along channels slowly."""
    phases = {}
    for phase, pairs in _phase_taps(x, kernel).items():
        products = [matmul(window, tap) for window, tap in pairs]
        phases[phase] = sum(products[1:], products[0])
    return _interleave(phases)


# A stride-1 conv into >= 32 channels from a map of at most 16x16 ran 1.5-2x faster (forward and gradient)
# as one bf16 im2col matmul than as XLA's float32 conv; into fewer channels the matmul is too narrow, and
# on larger maps the window copies cost more than they save (experiments/README.md, the style AAE).
MIXED_IM2COL_MIN_CHANNELS = 32
MIXED_IM2COL_MAX_POSITIONS = 16 * 16


def _mixed_im2col_pays(x: jax.Array, kernel: jax.Array, stride: int) -> bool:
    small = x.shape[1] * x.shape[2] <= MIXED_IM2COL_MAX_POSITIONS
    return stride == 1 and kernel.shape[-1] >= MIXED_IM2COL_MIN_CHANNELS and small


def conv_mixed(x: jax.Array, kernel: jax.Array, stride: int, padding: int, impl: str = "cpu") -> jax.Array:
    """conv_xla in mixed precision on the CPU: a k4 s2 p1 conv of an even-sized map as one bf16 matmul
    over its 4x4 windows, a stride-1 conv into many channels on a small map as one bf16 im2col matmul
    (XLA:CPU's conv emitter gains nothing from bf16, its dots do); other shapes stay float32 on `impl`."""
    if _is_k4s2p1(kernel, stride, padding) and not (x.shape[1] % 2 or x.shape[2] % 2):
        return mixed_layout_matmul(k4s2_columns, x, kernel.reshape(-1, kernel.shape[-1]))
    if _mixed_im2col_pays(x, kernel, stride):
        k, _, c_in, c_out = kernel.shape
        layout = functools.partial(im2col, k=k, stride=stride, padding=padding)
        return mixed_layout_matmul(layout, x, kernel.reshape(k * k * c_in, c_out), as_bits=True)
    return CONV[impl](x, kernel, stride, padding)


def upsample_nearest(x: jax.Array, factor: int) -> jax.Array:
    """[B, H, W, C] -> [B, factor H, factor W, C], each pixel repeated (nearest-neighbour up-sampling)."""
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


# Nearest 2x up-sampling then a k3 s1 p1 conv equals a k3 s1 p1 conv of the small map into the four output
# phases' channels: along each axis, output phase r of the 3-tap kernel (k0, k1, k2) reads the small map's
# offsets (-1, 0, +1) with weights (k0, k1 + k2, 0) for r = 0 and (0, k0 + k1, k2) for r = 1.
# UPSAMPLE_TAPS[r, small-map offset, kernel tap]. A numpy constant: a jnp array made at import would start
# JAX's backend, after which jax.distributed.initialize and XLA_FLAGS no longer take effect.
UPSAMPLE_TAPS = np.array([[[1, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]], np.float32)


def upsample_phase_kernel(kernel: jax.Array) -> jax.Array:
    """[3, 3, C_in, C_out] -> [3, 3, C_in, 4 * C_out], the kernel of `conv_upsampled` (phase (r, s) major)."""
    phases = jnp.einsum("rai,sbj,ijco->abcrso", UPSAMPLE_TAPS, UPSAMPLE_TAPS, kernel)
    return phases.reshape(3, 3, kernel.shape[2], 4 * kernel.shape[3])


def depth_to_space(y: jax.Array) -> jax.Array:
    """[B, H, W, 4 * C] with channels ordered (row phase, column phase, C) -> [B, 2H, 2W, C]."""
    b, h, w, c4 = y.shape
    y = y.reshape(b, h, w, 2, 2, c4 // 4).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, 2 * h, 2 * w, c4 // 4)


def conv_upsampled(x: jax.Array, kernel: jax.Array, conv) -> jax.Array:
    """conv(nearest 2x up-sampling of x, kernel, stride 1, padding 1) for a 3x3 kernel, computed on x itself
    (`conv(x, kernel, stride, padding)` any of the lowerings): no up-sampled map is written, and the conv
    runs on a quarter of the positions into four times the channels, which XLA:CPU's conv emitter ran
    1.5-2x faster, backward included (experiments/README.md, the style AAE)."""
    if kernel.shape[:2] != (3, 3):
        raise ValueError(f"conv_upsampled needs a 3x3 kernel, got {kernel.shape[:2]}")
    return depth_to_space(conv(x, upsample_phase_kernel(kernel), 1, 1))


# Into fewer channels the bf16 phase matmuls are narrow (N = C_out) and ran slower than XLA's float32
# conv (experiments/mixed_layers.py: 8x8x128 -> 64 and 16x16x64 -> 1 lose, 4x4x256 -> 128 gains 2x).
MIXED_TRANSPOSE_MIN_CHANNELS = 128


@jax.custom_vjp
def _conv_transpose_k4s2p1_mixed(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return conv_transpose_tap_sums(x, kernel, mixed_matmul)


def _conv_transpose_mixed_bwd(residuals, g):
    # the transposed conv is the adjoint of a strided conv with the kernel's channels swapped: its input
    # gradient is that conv of g, its kernel gradient that conv's kernel gradient at input g for cotangent x
    x, kernel = residuals
    dx, kernel_vjp = jax.vjp(lambda k: conv_matmul(g, k, 2, 1, mixed_matmul), _swap_io(kernel))
    (dkernel,) = kernel_vjp(x)
    return dx.astype(x.dtype), _swap_io(dkernel).astype(kernel.dtype)


_conv_transpose_k4s2p1_mixed.defvjp(
    lambda x, kernel: (_conv_transpose_k4s2p1_mixed(x, kernel), (x, kernel)), _conv_transpose_mixed_bwd
)


# A narrow transposed conv (8x8x128 -> 16x16x64) keeps XLA's float32 forward, but its backward is a strided
# conv into its input's 128 channels, wide enough for the bf16 matmul.
_conv_transpose_k4s2p1_mixed_backward = _with_backward(
    _conv_transpose_forward_cpu, lambda x, kernel, g: _conv_transpose_mixed_bwd((x, kernel), g)
)


def conv_transpose_mixed(
    x: jax.Array, kernel: jax.Array, stride: int, padding: int, impl: str = "cpu"
) -> jax.Array:
    """conv_transpose_xla in mixed precision on the CPU: k4 s2 p1 into >= 128 channels as bf16 matmuls
    (per-tap phase sums; the backward as the strided conv it is the adjoint of); into fewer channels, where
    the bf16 phase matmuls measured slower than XLA's float32 conv, that float32 forward with the same bf16
    backward when the input has >= 128 channels (on the cpu lowering); other shapes float32 on `impl`."""
    if _is_k4s2p1(kernel, stride, padding):
        if kernel.shape[-1] >= MIXED_TRANSPOSE_MIN_CHANNELS:
            return _conv_transpose_k4s2p1_mixed(x, kernel)
        if impl == "cpu" and kernel.shape[2] >= MIXED_TRANSPOSE_MIN_CHANNELS:
            return _conv_transpose_k4s2p1_mixed_backward(x, kernel)
    return CONV_TRANSPOSE[impl](x, kernel, stride, padding)


# "matmul": every k4 s2 p1 op and its autodiff as matmuls. Under jax.vmap over parameters (many seeds in
# one program) a conv becomes a grouped conv, which XLA:CPU ran ~15x slower; a matmul becomes a batched
# matmul (experiments/README.md, multi-seed training).
CONV = {"xla": conv_xla, "cpu": conv_cpu, "matmul": conv_matmul}
CONV_TRANSPOSE = {"xla": conv_transpose_xla, "cpu": conv_transpose_cpu, "matmul": conv_transpose_matmul}


def max_pool(x: jax.Array, window: int, stride: int, padding: int) -> jax.Array:
    """nn.max_pool of [B, H, W, C] over square windows, as maxima of strided slices one axis at a time:
    the same values, but XLA:CPU ran this form's gradient 2x faster than reduce_window's select-and-scatter
    (the style AAE's 3x3 s2 pool: 2.3 against 4.9 ms, experiments/README.md)."""
    x = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)), constant_values=-jnp.inf)
    for axis in (1, 2):
        last = x.shape[axis] - window  # where the last window starts
        offsets = [jax.lax.slice_in_dim(x, i, i + last + 1, stride, axis) for i in range(window)]
        x = functools.reduce(jnp.maximum, offsets)
    return x


# ----------------------------------------------------------------------------------------- modules


@dataclasses.dataclass(frozen=True)
class ConvOptions:
    """How conv layers compute: the lowering ('auto' | 'xla' | 'cpu' | 'matmul') and the operand dtype.

    dtype 'bfloat16' multiplies bfloat16 operands and accumulates in float32; outputs, parameters and
    optimizer states stay float32. On the CPU lowerings it takes the matmul forms of conv_mixed and
    conv_transpose_mixed (float32 where those measured slower); on 'xla' it casts the operands of XLA's conv.
    """

    impl: str = "auto"
    dtype: str = "float32"
    # the MLP models' dense products (`dense`): bfloat16 only when runtime.compute_dtype asks for it; the gain
    # is machine-dependent, and the likelihood models' NLL goes through them (experiments/README.md)
    dense_dtype: str = "float32"


class Conv(nn.Module):
    """Strided 2-d convolution (default k4 s2 p1, the DCGAN down-sampling layer)."""

    features: int
    kernel_size: int = 4
    stride: int = 2
    padding: int = 1
    use_bias: bool = True
    conv: ConvOptions = ConvOptions()
    transpose: bool = False  # True: PyTorch-style ConvTranspose2d (up-sampling)
    upsample: bool = False  # True: nearest 2x up-sampling before a k3 s1 p1 conv (`conv_upsampled`)
    kernel_init: nn.initializers.Initializer = dcgan_init

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape = (self.kernel_size, self.kernel_size, x.shape[-1], self.features)
        kernel = self.param("kernel", self.kernel_init, shape)
        if self.upsample:
            if (self.kernel_size, self.stride, self.padding, self.transpose) != (3, 1, 1, False):
                raise ValueError("Conv(upsample=True) is a k3 s1 p1 conv")
            y = conv_upsampled(x, kernel, self._conv_op(transpose=False))
        else:
            y = self._conv_op(self.transpose)(x, kernel, self.stride, self.padding)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y

    def _conv_op(self, transpose: bool):
        """conv(x, kernel, stride, padding) of this layer's lowering and dtype."""
        impl = resolve_conv_impl(self.conv.impl)
        if self.conv.dtype == "bfloat16" and impl != "xla":  # the CPU lowerings' bf16 form: matmuls
            mixed = conv_transpose_mixed if transpose else conv_mixed
            return functools.partial(mixed, impl=impl)
        ops, dtype = (CONV_TRANSPOSE if transpose else CONV)[impl], jnp.dtype(self.conv.dtype)
        return lambda x, kernel, stride, padding: ops(x.astype(dtype), kernel.astype(dtype), stride, padding)


class GroupNorm(nn.Module):
    """nn.GroupNorm of [B, H, W, C] (the same parameters, names and fast variance E[x^2] - E[x]^2), with its
    statistics summed over the positions first, to [B, C], and only then over each group's channels.

    Why: flax reduces x reshaped to [B, H, W, G, C/G] over (H, W, C/G), a reduction whose kept axis G is not
    the minor one, and XLA:CPU ran those (forward and gradient) several times slower than sums that keep C
    minor: the style AAE's training step 10% faster (experiments/README.md). Same values within float32
    rounding (tests/test_layers.py)."""

    num_groups: int
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        batch, height, width, channels = x.shape
        if channels % self.num_groups:
            raise ValueError(f"GroupNorm: {channels} channels do not split into {self.num_groups} groups")
        scale = self.param("scale", nn.initializers.ones, (channels,))
        bias = self.param("bias", nn.initializers.zeros, (channels,))
        per_group = channels // self.num_groups
        count = height * width * per_group

        def group_mean(sums):  # [B, C] -> [B, G]
            return sums.reshape(batch, self.num_groups, per_group).sum(-1) / count

        mean, mean_square = group_mean(x.sum((1, 2))), group_mean(jnp.square(x).sum((1, 2)))
        inv_std = jax.lax.rsqrt(jnp.maximum(mean_square - jnp.square(mean), 0.0) + self.epsilon)
        gain = jnp.repeat(inv_std, per_group, axis=1) * scale  # [B, C]
        shift = bias - jnp.repeat(mean, per_group, axis=1) * gain
        return x * gain[:, None, None, :] + shift[:, None, None, :]


def batch_norm(train: bool) -> nn.BatchNorm:
    """BatchNorm with PyTorch's defaults (momentum 0.1 there = 0.9 here, eps 1e-5)."""
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)


class DownStack(nn.Module):
    """DCGAN down-sampling body: conv k4 s2 p1 per width, BatchNorm after all but the first, LeakyReLU 0.2.

    [B, S, S, C] -> [B, S / 2^len(widths), ..., widths[-1]] flattened to [B, features].
    """

    widths: Sequence[int] = (64, 128, 256, 512)
    use_batch_norm: bool = True
    conv: ConvOptions = ConvOptions()
    kernel_init: nn.initializers.Initializer = dcgan_init
    use_bias: bool = True  # False: no conv has a bias (the WGAN reference critic's)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        for i, width in enumerate(self.widths):
            bias = self.use_bias and not (self.use_batch_norm and i > 0)
            x = Conv(width, use_bias=bias, conv=self.conv, kernel_init=self.kernel_init)(x)
            if self.use_batch_norm and i > 0:
                x = batch_norm(train)(x)
            x = nn.leaky_relu(x, 0.2)
        return x.reshape(x.shape[0], -1)


class UpStack(nn.Module):
    """DCGAN up-sampling body: dense projection to a 4x4 map, then ConvTranspose k4 s2 p1 per width.

    [B, D] -> [B, 4 * 2^len(widths), ..., out_channels], pre-activation (families add tanh / sigmoid);
    out_channels = 0: the last map [B, 4 * 2^(len(widths) - 1), ..., widths[-1]] without the output layer
    (a trunk that several output layers share, as CoGAN's generators).
    """

    widths: Sequence[int] = (256, 128, 64)
    out_channels: int = 1
    conv: ConvOptions = ConvOptions()
    use_batch_norm: bool = True  # False: biases instead (BEGAN's decoder, which has no BatchNorm)
    kernel_init: nn.initializers.Initializer = dcgan_init

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        bn = self.use_batch_norm

        def normalise(x):
            return batch_norm(train)(x) if bn else x

        # A k4 s1 p0 transposed conv from a 1x1 map is exactly this dense layer.
        init = self.kernel_init
        x = nn.Dense(4 * 4 * self.widths[0], use_bias=not bn, kernel_init=init)(z)
        x = nn.relu(normalise(x.reshape(z.shape[0], 4, 4, self.widths[0])))
        for width in self.widths[1:]:
            x = Conv(width, transpose=True, use_bias=not bn, conv=self.conv, kernel_init=init)(x)
            x = nn.relu(normalise(x))
        if not self.out_channels:
            return x
        return Conv(self.out_channels, transpose=True, conv=self.conv, kernel_init=init)(x)


def down_widths(width: int, n: int = 4) -> tuple[int, ...]:
    """(w, 2w, 4w, ...) for a DownStack."""
    return tuple(width * 2**i for i in range(n))


def up_widths(width: int, image_size: int) -> tuple[int, ...]:
    """(..., 4w, 2w, w): one width per doubling from 4x4 to image_size / 2 (then the output layer)."""
    n = (image_size // 4).bit_length() - 1  # doublings from 4 to image_size
    if n < 1 or 4 * 2**n != image_size:
        raise ValueError(f"image_size={image_size} is not 4 * 2^n with n >= 1")
    return tuple(width * 2 ** (n - 1 - i) for i in range(n))


class MLP(nn.Module):
    """`depth` Dense + ReLU layers of `hidden` units, then a linear Dense ([..., D] -> [..., out]); dtype: the
    products' operands (`dense`)."""

    hidden: int
    depth: int
    out: int
    dtype: str = "float32"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.depth):
            x = nn.relu(dense(self.hidden, self.dtype)(x))
        return dense(self.out, self.dtype)(x)


def crop_flat(images: jax.Array, crop: int) -> jax.Array:
    """[B, S, S, C] -> [B, (S - 2 crop)^2 C]: the pixels inside a `crop`-wide border, flattened."""
    size = images.shape[1]
    return images[:, crop : size - crop, crop : size - crop, :].reshape(images.shape[0], -1)


def uncrop_flat(pixels: jax.Array, crop: int, size: int, channels: int) -> jax.Array:
    """Inverse of crop_flat: [B, D] -> [B, S, S, C] with a zero border."""
    side = size - 2 * crop
    image = pixels.reshape(-1, side, side, channels)
    return jnp.pad(image, ((0, 0), (crop, crop), (crop, crop), (0, 0)))
