"""Every conv lowering against lax.conv_general_dilated and a loop definition, values and gradients."""

from __future__ import annotations

import functools
import itertools
import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import layers


def naive_conv_transpose(x, w, stride, padding):
    """PyTorch ConvTranspose2d by its definition: out[s*i - p + t] += x[i] * w[t] (no kernel flip)."""
    b, h, wd, _ = x.shape
    k, _, _, c_out = w.shape
    full = np.zeros((b, (h - 1) * stride + k, (wd - 1) * stride + k, c_out), np.float64)
    for i, j, ti, tj in itertools.product(range(h), range(wd), range(k), range(k)):
        full[:, i * stride + ti, j * stride + tj] += x[:, i, j] @ w[ti, tj]
    return full[:, padding : full.shape[1] - padding, padding : full.shape[2] - padding]


def random(shape, seed):
    return jax.random.normal(jax.random.key(seed), shape)


# 8x8 inputs take the custom-VJP branch of the cpu lowering, 4x4 the im2col branch, k3 s1 the fallback.
@pytest.mark.parametrize(
    "shape,k,s,p", [((2, 8, 8, 3), 4, 2, 1), ((2, 4, 4, 5), 4, 2, 1), ((1, 7, 9, 2), 3, 1, 1)]
)
def test_conv_forms_equal_xla(shape, k, s, p):
    x, w = random(shape, 0), random((k, k, shape[-1], 6), 1)
    expected = layers.conv_xla(x, w, s, p)
    np.testing.assert_allclose(layers.conv_matmul(x, w, s, p), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layers.conv_cpu(x, w, s, p), expected, rtol=1e-5, atol=1e-5)


# 2x2 -> 8 channels takes the sub-pixel-phase forward, 5x3 and 1 channel the XLA forward.
@pytest.mark.parametrize("shape,c_out", [((2, 2, 2, 3), 8), ((1, 5, 3, 2), 1), ((2, 4, 4, 3), 6)])
def test_conv_transpose_forms_equal_definition(shape, c_out):
    x, w = random(shape, 2), random((4, 4, shape[-1], c_out), 3)
    expected = naive_conv_transpose(np.asarray(x, np.float64), np.asarray(w, np.float64), 2, 1)
    assert expected.shape == (shape[0], 2 * shape[1], 2 * shape[2], c_out)
    for op in (layers.conv_transpose_xla, layers.conv_transpose_cpu):
        np.testing.assert_allclose(op(x, w, 2, 1), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layers.conv_transpose_phases(x, w), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "transpose,x_shape,c_out",
    [(False, (2, 8, 8, 3), 4), (False, (2, 4, 4, 3), 4), (False, (2, 5, 7, 3), 4), (True, (2, 2, 2, 3), 8),
     (True, (2, 4, 4, 3), 1)],
)  # fmt: skip
def test_gradients_of_both_lowerings_agree(transpose, x_shape, c_out):
    ops = layers.CONV_TRANSPOSE if transpose else layers.CONV
    x, w = random(x_shape, 4), random((4, 4, x_shape[-1], c_out), 5)

    def loss(impl, x, w):
        return jnp.sum(jnp.sin(ops[impl](x, w, 2, 1)))

    grads = {impl: jax.grad(loss, argnums=(1, 2))(impl, x, w) for impl in ("xla", "cpu", "matmul")}
    for impl in ("cpu", "matmul"):
        for g_xla, g_other in zip(grads["xla"], grads[impl], strict=True):
            np.testing.assert_allclose(g_other, g_xla, rtol=1e-4, atol=1e-4, err_msg=impl)


def test_matmul_lowering_under_vmap_over_kernels_is_a_batched_matmul():
    """Many seeds in one program vmap over parameters: the matmul lowering must stay free of grouped
    convolutions (slow on XLA:CPU) and agree with the reference, also in its second derivative (WGAN-GP)."""
    xs, ws = random((3, 2, 8, 8, 2), 6), random((3, 4, 4, 2, 4), 7)

    def penalty(x, w, transpose):
        """grad_w of the squared input gradient: the shape of the WGAN-GP penalty's derivative."""
        ops = layers.CONV_TRANSPOSE if transpose else layers.CONV

        def squared_input_gradient(w, op):
            return jnp.sum(jax.grad(lambda x: jnp.sum(jnp.sin(op(x, w, 2, 1))))(x) ** 2)

        return {impl: jax.grad(squared_input_gradient)(w, ops[impl]) for impl in ("xla", "matmul")}

    for transpose in (False, True):
        x = xs[:, :, :4, :4] if transpose else xs
        grads = jax.vmap(lambda x, w, t=transpose: penalty(x, w, t))(x, ws)
        np.testing.assert_allclose(grads["matmul"], grads["xla"], rtol=1e-4, atol=1e-4)
        ops = layers.CONV_TRANSPOSE if transpose else layers.CONV
        hlo = jax.jit(jax.vmap(lambda x, w, o=ops: jax.grad(lambda w: jnp.sum(o["matmul"](x, w, 2, 1)))(w)))
        assert "feature_group_count" not in hlo.lower(x, ws).as_text()


def test_modules_share_parameter_layout_across_lowerings():
    x = jax.random.uniform(jax.random.key(3), (2, 32, 32, 1))
    stack = {impl: layers.DownStack((4, 8, 8, 8), conv=layers.ConvOptions(impl)) for impl in ("xla", "cpu")}
    variables = stack["xla"].init(jax.random.key(4), x, train=False)
    out = {impl: m.apply(variables, x, train=False) for impl, m in stack.items()}
    np.testing.assert_allclose(out["cpu"], out["xla"], rtol=1e-5, atol=1e-5)
    z = jnp.ones((2, 8))
    up = {
        impl: layers.UpStack(layers.up_widths(4, 32), 1, conv=layers.ConvOptions(impl))
        for impl in ("xla", "cpu")
    }
    variables = up["xla"].init(jax.random.key(5), z, train=False)
    images = {impl: m.apply(variables, z, train=False) for impl, m in up.items()}
    assert images["xla"].shape == (2, 32, 32, 1)
    np.testing.assert_allclose(images["cpu"], images["xla"], rtol=1e-5, atol=1e-5)


def test_width_helpers():
    assert layers.down_widths(64) == (64, 128, 256, 512)
    assert layers.up_widths(64, 32) == (256, 128, 64)
    assert layers.up_widths(64, 64) == (512, 256, 128, 64)
    assert layers.resolve_conv_impl("auto") == ("cpu" if jax.default_backend() == "cpu" else "xla")
    with pytest.raises(ValueError):
        layers.up_widths(8, 48)


@pytest.mark.parametrize("impl", ["xla", "cpu"])
@pytest.mark.parametrize("transpose", [False, True])
def test_bfloat16_operands_keep_float32_outputs_and_gradients(impl, transpose):
    x = random((2, 8, 8, 3), 6)
    conv = layers.Conv(5, transpose=transpose, conv=layers.ConvOptions(impl, "bfloat16"))
    reference = layers.Conv(5, transpose=transpose, conv=layers.ConvOptions(impl, "float32"))
    variables = reference.init(jax.random.key(7), x)
    out = conv.apply(variables, x)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, reference.apply(variables, x), rtol=0.05, atol=0.02)  # bf16 has 8 bits

    grads = jax.grad(lambda v, x: jnp.sum(conv.apply(v, x) ** 2), argnums=(0, 1))(variables, x)
    ref_grads = jax.grad(lambda v, x: jnp.sum(reference.apply(v, x) ** 2), argnums=(0, 1))(variables, x)
    for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads), strict=True):
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(g, r, rtol=0.1, atol=0.05 * float(jnp.abs(r).max()))


# Odd sizes and strides whose last rows no output reads, and the kernel sizes the models use off the
# k4 s2 p1 path (3x3 and 5x5 encoders, 1x1 codes, 7x7 ResNet ends).
@pytest.mark.parametrize(
    "shape,k,s,p",
    [((2, 7, 9, 2), 3, 1, 1), ((2, 8, 8, 3), 3, 2, 0), ((1, 9, 9, 2), 5, 2, 2), ((2, 6, 6, 3), 1, 1, 0),
     ((1, 10, 10, 2), 7, 1, 0)],
)  # fmt: skip
def test_cpu_lowering_gradients_of_any_conv_equal_autodiff(shape, k, s, p):
    x, w = random(shape, 8), random((k, k, shape[-1], 4), 9)

    def loss(op, x, w):
        return jnp.sum(jnp.sin(op(x, w, s, p)))

    expected = jax.grad(loss, argnums=(1, 2))(layers.conv_xla, x, w)
    got = jax.grad(loss, argnums=(1, 2))(layers.conv_cpu, x, w)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


def conv_dimension_labels(compiled_text: str) -> set[str]:
    lines = [line for line in compiled_text.splitlines() if " convolution(" in line]
    return {line.split("dim_labels=")[1].split(",")[0] for line in lines}


@pytest.mark.parametrize("shape,k,s,p", [((2, 16, 16, 3), 4, 2, 1), ((2, 8, 8, 3), 3, 1, 1)])
def test_cpu_lowering_keeps_gradients_canonical_inside_loops(shape, k, s, p):
    """XLA:CPU canonicalises only top-level convs; a conv in a loop body with other dimension numbers runs
    on its naive emitter (45x slower, WGAN's critic loop). Every conv of the cpu lowering's forward pass and
    its first and second derivatives, for the strided and the transposed layer, in a loop, must be
    NHWC x HWIO -> NHWC."""
    x, w = random(shape, 10), random((k, k, shape[-1], 4), 11)

    def forward(x, w):
        y = layers.conv_cpu(x, w, s, p)
        return layers.conv_transpose_cpu(y, layers._swap_io(w), s, p) if k == 4 else y

    def penalised(w, x):
        """The WGAN-GP shape: a loss plus a penalty on its input gradient (a second derivative)."""
        input_gradient = jax.grad(lambda x: jnp.sum(jnp.sin(forward(x, w))))(x)
        return jnp.sum(jnp.sin(forward(x, w))) + jnp.sum(input_gradient**2)

    def updates(x, w):
        def body(i, w):
            return w - 0.1 * jax.grad(penalised)(w, x + i)

        return jax.lax.fori_loop(0, 3, body, w)

    text = jax.jit(updates).lower(x, w).compile().as_text()
    assert "while" in text
    assert conv_dimension_labels(text) == {"b01f_01io->b01f"}


@pytest.mark.parametrize(
    "transpose,shape,k,s,p",
    [(False, (2, 8, 8, 3), 4, 2, 1), (False, (2, 7, 7, 2), 3, 2, 0), (True, (2, 4, 4, 3), 4, 2, 1),
     (True, (2, 2, 2, 3), 4, 2, 1), (True, (1, 3, 3, 2), 3, 2, 1)],
)  # fmt: skip
def test_cpu_lowering_second_derivatives_equal_autodiff(transpose, shape, k, s, p):
    """The kernel gradient of a penalty on the input gradient (WGAN-GP) through the cpu lowering's custom
    VJPs equals plain autodiff of the reference ops."""
    ops = layers.CONV_TRANSPOSE if transpose else layers.CONV
    x, w = random(shape, 12), random((k, k, shape[-1], 4), 13)

    def penalty(w, op):
        input_gradient = jax.grad(lambda x: jnp.sum(jnp.sin(op(x, w, s, p))))(x)
        return jnp.sum(input_gradient**2)

    expected = jax.grad(penalty)(w, ops["xla"])
    np.testing.assert_allclose(jax.grad(penalty)(w, ops["cpu"]), expected, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------- mixed precision


def test_mixed_strided_conv_joins_its_windows_along_outer_axes_only():
    """XLA:CPU copies a concatenation along the minor (channel) axis slowly: the k4 s2 p1 mixed conv's
    windows, forward and backward, are joined along row and column axes (conv AE step -9%)."""
    x, w = random((4, 16, 16, 8), 1), random((4, 4, 8, 16), 2)
    loss = lambda x, w: jnp.sum(layers.conv_mixed(x, w, 2, 1) ** 2)  # noqa: E731
    hlo = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(x, w).compile().as_text()
    joins = re.findall(r"= \w+\[([\d,]+)\]\{[^}]*\} concatenate\(.*?dimensions=\{(\d+)\}", hlo)
    assert joins, "no concatenation found: the test no longer reads the windows' layout"
    for dims, axis in joins:
        assert int(axis) != len(dims.split(",")) - 1, f"concatenation along the minor axis of [{dims}]"


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (2, 4, 4, 5), (1, 2, 6, 2)])
def test_k4s2_conv_and_tap_sums_equal_the_references(shape):
    x, w = random(shape, 8), random((4, 4, shape[-1], 6), 9)
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = jnp.concatenate(
        [
            padded[:, i : i + x.shape[1] - 1 : 2, j : j + x.shape[2] - 1 : 2]
            for i in range(4)
            for j in range(4)
        ],
        -1,
    )
    np.testing.assert_array_equal(layers.k4s2_columns(x), windows)  # the 16 strided windows, kernel order
    expected = layers.conv_xla(x, w, 2, 1)
    np.testing.assert_allclose(layers.conv_matmul(x, w, 2, 1), expected, rtol=1e-5, atol=1e-5)
    expected = naive_conv_transpose(np.asarray(x, np.float64), np.asarray(w, np.float64), 2, 1)
    np.testing.assert_allclose(layers.conv_transpose_tap_sums(x, w), expected, rtol=1e-4, atol=1e-4)


def dot_operand_types(f, *args) -> list[str]:
    """'bf16'/'f32' per dot_general of f's lowered program, in program order, by its operands' type."""
    hlo = jax.jit(f).lower(*args).as_text()
    dots = [line for line in hlo.splitlines() if "dot_general" in line]
    assert all(line.rstrip().endswith("f32>") for line in dots), dots  # every sum float32
    return ["bf16" if "bf16>, tensor<" in line else "f32" for line in dots]


@pytest.mark.parametrize("copy_transposes", [False, True])
def test_mixed_matmul_multiplies_bf16_operands_forward_and_backward(copy_transposes):
    """All three products take bf16 operands (autodiff alone would multiply the float32 cotangent by a
    bf16 operand as a float32 dot), with or without copied transposes, and both gradients come back as
    float32 sums of them, not rounded to bf16."""
    x, w = random((6, 5), 10), random((5, 3), 11)

    def loss(x, w):
        return jnp.sum(jnp.sin(layers.mixed_matmul(x, w, copy_transposes)))

    assert dot_operand_types(jax.grad(loss, argnums=(0, 1)), x, w) == ["bf16", "bf16", "bf16"]
    grads = jax.grad(loss, argnums=(0, 1))(x, w)
    reference = jax.grad(lambda x, w: jnp.sum(jnp.sin(x @ w)), argnums=(0, 1))(x, w)
    for g, r in zip(grads, reference, strict=True):
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(g, r, rtol=0.03, atol=0.03 * float(jnp.abs(r).max()))

    # a linear loss: the gradients are exactly the float32 sums x^T c and c w^T of the bf16 operands
    c = random((6, 3), 12)
    dx, dw = jax.grad(lambda x, w: jnp.sum(layers.mixed_matmul(x, w, copy_transposes) * c), (0, 1))(x, w)
    x16, w16, c16 = (np.asarray(a.astype(jnp.bfloat16), np.float64) for a in (x, w, c))
    np.testing.assert_allclose(dw, x16.T @ c16, rtol=1e-5)
    np.testing.assert_allclose(dx, c16 @ w16.T, rtol=1e-5)
    assert np.any(dw != dw.astype(jnp.bfloat16).astype(jnp.float32))  # not rounded to bf16 on the way


def mixed_matmul_gradient(copy_transposes: bool):
    def loss(x, w):
        return jnp.sum(jnp.sin(layers.mixed_matmul(x, w, copy_transposes)))

    return jax.jit(jax.grad(loss, argnums=(0, 1)))


@pytest.mark.parametrize("leading", [(64,), (8, 8)])
def test_copied_transposes_keep_the_compiled_backward_in_bf16(leading):
    """As XLA:CPU compiles it, every product of the gradient reads bf16 operands with copied transposes,
    and the gradients equal those without."""
    x, w = random((*leading, 96), 14), random((96, 80), 15)
    assert set(compiled_dot_operand_types(mixed_matmul_gradient(True), x, w)) == {"bf16"}
    for a, b in zip(mixed_matmul_gradient(True)(x, w), mixed_matmul_gradient(False)(x, w), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_without_copied_transposes_xla_cpu_widens_a_dense_layers_backward():
    """Why `copy_transposes` exists: a dense layer's 2-d product without it compiles (jaxlib 0.10) to a
    backward with float32 dots, XLA:CPU having widened their bf16 operands."""
    x, w = random((64, 96), 14), random((96, 80), 15)
    assert "f32" in compiled_dot_operand_types(mixed_matmul_gradient(False), x, w)


def compiled_dot_operand_types(f, *args) -> list[str]:
    """'bf16' or 'f32' per dot of f's program as XLA compiled it (fused or not), by its operands' type."""
    found, types = [], {}
    for line in f.lower(*args).compile().as_text().splitlines():
        defined = re.match(r"\s*(?:ROOT )?%([\w.-]+) = (\w+)\[", line)
        if defined:
            types[defined.group(1)] = defined.group(2)
        dot = re.search(r" dot\(%([\w.-]+), %([\w.-]+)\)", line)
        if dot:
            operand_types = {types[name] for name in dot.groups()}
            found.append("bf16" if operand_types == {"bf16"} else "f32")
    assert found, "no dot in the compiled program"
    return found


def test_dense_takes_bf16_operands_where_wide_and_keeps_nn_dense_parameters():
    """layers.dense in bfloat16: the products of a 64-wide input run on bf16 operands (forward and
    backward), a 2-wide one (codes) stays float32; same parameter tree as float32; values track it."""
    x = random((4, 64), 12)
    wide, plain = layers.dense(8, "bfloat16"), layers.dense(8)
    params = plain.init(jax.random.key(0), x)
    assert jax.tree.map(jnp.shape, wide.init(jax.random.key(0), x)) == jax.tree.map(jnp.shape, params)

    def loss(params, x, net):
        return jnp.sum(jnp.sin(net.apply(params, x)))

    def dots(x, params):
        return dot_operand_types(jax.grad(functools.partial(loss, net=wide), argnums=(0, 1)), params, x)

    assert dots(x, params) == ["bf16", "bf16", "bf16"]
    narrow = random((4, 2), 13)
    assert dots(narrow, plain.init(jax.random.key(0), narrow)) == ["f32", "f32", "f32"]
    np.testing.assert_allclose(wide.apply(params, x), plain.apply(params, x), rtol=0.03, atol=0.03)
    grads = (jax.tree.leaves(jax.grad(loss)(params, x, net)) for net in (wide, plain))
    for g, r in zip(*grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=0.03, atol=0.03 * float(jnp.abs(r).max()))


# Transposed convs into 128 channels take the bf16 phase matmuls, 6 channels the float32 conv (from 128
# channels with a bf16 backward); odd maps the float32 conv; the penalty is a second derivative, as WGAN-GP
# takes it.
@pytest.mark.parametrize(
    "transpose,x_shape,c_out",
    [(False, (2, 8, 8, 3), 6), (False, (2, 5, 7, 3), 6), (True, (2, 2, 2, 4), 128), (True, (2, 4, 4, 3), 6),
     (True, (2, 4, 4, 128), 6)],
)  # fmt: skip
def test_mixed_convs_track_float32_in_values_gradients_and_penalty_gradients(transpose, x_shape, c_out):
    ops = (layers.conv_transpose_mixed, layers.conv_transpose_cpu) if transpose else (
        layers.conv_mixed, layers.conv_cpu)  # fmt: skip
    x, w = random(x_shape, 12), random((4, 4, x_shape[-1], c_out), 13) / 4

    def penalty(op, w, x):
        return jnp.sum(jax.grad(lambda x: jnp.sum(jnp.sin(op(x, w, 2, 1))))(x) ** 2)

    for fn in (
        lambda op: op(x, w, 2, 1),
        lambda op: jax.grad(lambda x, w: jnp.sum(jnp.sin(op(x, w, 2, 1))), argnums=(0, 1))(x, w),
        lambda op: jax.grad(lambda w: penalty(op, w, x))(w),
    ):
        for m, r in zip(jax.tree.leaves(fn(ops[0])), jax.tree.leaves(fn(ops[1])), strict=True):
            assert m.dtype == jnp.float32 and m.shape == r.shape
            np.testing.assert_allclose(m, r, rtol=0.05, atol=0.03 * float(jnp.abs(r).max()))


@pytest.mark.parametrize("c_in,bf16_backward", [(128, True), (64, False)])
def test_narrow_mixed_transposed_conv_keeps_its_float32_forward(c_in, bf16_backward):
    """A k4 s2 p1 transposed conv into 6 channels: the float32 conv of the cpu lowering forward, exactly;
    from 128 input channels its gradients are bf16 matmuls (the strided conv it is the adjoint of), from 64
    the float32 convs."""
    x, w = random((2, 4, 4, c_in), 16), random((4, 4, c_in, 6), 17) / 8
    forward = layers.conv_transpose_mixed(x, w, 2, 1)
    np.testing.assert_array_equal(forward, layers.conv_transpose_cpu(x, w, 2, 1))
    grad = jax.grad(lambda x, w: jnp.sum(jnp.sin(layers.conv_transpose_mixed(x, w, 2, 1))), argnums=(0, 1))
    dots = [line for line in jax.jit(grad).lower(x, w).as_text().splitlines() if "dot_general" in line]
    assert (len(dots) > 0 and all("bf16>, tensor<" in d for d in dots)) == bf16_backward


@pytest.mark.parametrize("x_shape,c_out,bf16", [((2, 8, 8, 4), 32, True), ((2, 8, 8, 4), 16, False),
                                                  ((1, 20, 20, 2), 32, False)])  # fmt: skip
def test_mixed_stride_one_conv_is_a_bf16_matmul_only_into_many_channels_on_small_maps(x_shape, c_out, bf16):
    """conv_mixed of a k3 s1 p1 conv: into 32 channels on an 8x8 map one bf16 im2col matmul, forward and
    both gradients (no conv left), tracking float32; into 16 channels, or on a 20x20 map, the float32 conv
    of the `cpu` lowering, exactly."""
    x, w = random(x_shape, 14), random((3, 3, x_shape[-1], c_out), 15) / 3

    def loss(op):
        return lambda x, w: jnp.sum(jnp.sin(op(x, w, 1, 1)))

    grad = jax.grad(loss(layers.conv_mixed), argnums=(0, 1))
    hlo = jax.jit(grad).lower(x, w).as_text()
    dots = [line for line in hlo.splitlines() if "dot_general" in line]
    assert ("convolution" not in hlo and len(dots) == 3 and all("bf16>, tensor<" in d for d in dots)) == bf16
    got = [layers.conv_mixed(x, w, 1, 1), *grad(x, w)]
    want = [layers.conv_cpu(x, w, 1, 1), *jax.grad(loss(layers.conv_cpu), argnums=(0, 1))(x, w)]
    for m, r in zip(got, want, strict=True):
        assert m.dtype == jnp.float32
        if bf16:
            np.testing.assert_allclose(m, r, rtol=0.05, atol=0.03 * float(jnp.abs(r).max()))
        else:
            np.testing.assert_array_equal(m, r)


def test_mixed_im2col_columns_are_written_in_16_bits():
    """XLA:CPU computes bf16 concatenations in float32; conv_mixed's im2col columns are moved as uint16 bit
    patterns instead, so the compiled forward writes no 4-byte columns ([2, 8, 8, 9 * 4]), and its values
    are those of the same bf16 matmul of columns cast after the layout."""
    x, w = random((2, 8, 8, 4), 16), random((3, 3, 4, 32), 17) / 3
    compiled = jax.jit(lambda x, w: layers.conv_mixed(x, w, 1, 1)).lower(x, w).compile().as_text()
    columns = [line for line in compiled.splitlines() if "[2,8,8,36]" in line.split("=", 1)[-1][:40]]
    assert columns and all(" u16[2,8,8,36]" in line or " bf16[2,8,8,36]" in line for line in columns), columns
    expected = layers.conv_matmul(x, w, 1, 1, layers.mixed_matmul)
    np.testing.assert_array_equal(layers.conv_mixed(x, w, 1, 1), expected)


@pytest.mark.parametrize("impl,dtype", [("xla", "float32"), ("cpu", "float32"), ("cpu", "bfloat16")])
@pytest.mark.parametrize("shape,c_out", [((2, 4, 4, 3), 5), ((1, 3, 5, 2), 1)])
def test_upsampling_conv_equals_a_conv_of_the_upsampled_map(impl, dtype, shape, c_out):
    """Conv(upsample=True) keeps Conv's parameters and equals the conv of the nearest-2x-up-sampled map, in
    value and in the gradients of input and kernel (an odd-sized map and one output channel included)."""
    x = random(shape, 0)
    options = layers.ConvOptions(impl, dtype)
    fused = layers.Conv(c_out, 3, 1, 1, conv=options, upsample=True)
    plain = layers.Conv(c_out, 3, 1, 1, conv=layers.ConvOptions("xla"))
    variables = plain.init(jax.random.key(1), layers.upsample_nearest(x, 2))
    assert jax.tree.map(jnp.shape, fused.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape, variables)
    variables = jax.tree.map(lambda v: v + 0.1 * random(v.shape, 2), variables)  # a nonzero bias too

    def loss(module, upsample):
        return lambda v, x: jnp.sum(jnp.sin(module.apply(v, upsample(x))))

    np.testing.assert_allclose(
        fused.apply(variables, x), plain.apply(variables, layers.upsample_nearest(x, 2)), rtol=1e-5, atol=1e-5
    )
    got = jax.grad(loss(fused, lambda x: x), argnums=(0, 1))(variables, x)
    want = jax.grad(loss(plain, lambda x: layers.upsample_nearest(x, 2)), argnums=(0, 1))(variables, x)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_upsampling_conv_rejects_other_geometries():
    with pytest.raises(ValueError, match="k3 s1 p1"):
        layers.Conv(4, 4, 2, 1, upsample=True).init(jax.random.key(0), jnp.ones((1, 4, 4, 1)))


POOLS = [((2, 16, 16, 3), 3, 2, 1), ((1, 7, 6, 2), 3, 2, 1), ((2, 8, 9, 1), 2, 2, 0), ((1, 5, 5, 2), 3, 1, 1)]


@pytest.mark.parametrize("shape,window,stride,padding", POOLS)
def test_max_pool_equals_flax_in_value_and_gradient(shape, window, stride, padding):
    x = random(shape, 0)

    def flax_pool(x):
        return nn.max_pool(x, (window, window), strides=(stride, stride), padding=[(padding, padding)] * 2)

    def ours(x):
        return layers.max_pool(x, window, stride, padding)

    np.testing.assert_array_equal(ours(x), flax_pool(x))
    grads = [jax.grad(lambda x, f=f: jnp.sum(jnp.sin(f(x))))(x) for f in (ours, flax_pool)]
    np.testing.assert_allclose(*grads, rtol=1e-6, atol=1e-6)


GROUP_NORMS = [((2, 6, 5, 8), 4), ((3, 4, 4, 4), 2), ((1, 3, 3, 6), 1), ((2, 4, 4, 6), 6)]


@pytest.mark.parametrize("shape,groups", GROUP_NORMS)
def test_group_norm_equals_flax_in_parameters_value_and_gradient(shape, groups):
    """Checkpoints of nn.GroupNorm load into layers.GroupNorm: the same parameter tree and function."""
    # an offset and a spread per channel, so the statistics differ between groups and from 0 / 1
    x = 3.0 + random(shape, 0) * jnp.linspace(0.5, 2.0, shape[-1])
    ours, theirs = layers.GroupNorm(groups, epsilon=1e-5), nn.GroupNorm(num_groups=groups, epsilon=1e-5)
    variables = ours.init(jax.random.key(0), x)
    assert jax.tree.structure(variables) == jax.tree.structure(theirs.init(jax.random.key(0), x))
    params = {
        "scale": 1.0 + 0.3 * random(shape[-1:], 1),
        "bias": 0.2 * random(shape[-1:], 2),
    }
    np.testing.assert_allclose(
        ours.apply({"params": params}, x), theirs.apply({"params": params}, x), rtol=1e-4, atol=1e-5
    )

    def loss(module, params, x):
        y = nn.relu(module.apply({"params": params}, x))
        return jnp.sum(y * jnp.cos(y))

    grads = [jax.grad(loss, argnums=(1, 2))(m, params, x) for m in (ours, theirs)]
    for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_group_norm_names_channels_that_do_not_split():
    with pytest.raises(ValueError, match="6 channels do not split into 4 groups"):
        layers.GroupNorm(4).init(jax.random.key(0), jnp.ones((1, 2, 2, 6)))
