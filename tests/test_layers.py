"""Both conv lowerings against each other, lax.conv_general_dilated and a direct loop definition."""

from __future__ import annotations

import itertools

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


@pytest.mark.parametrize("shape,k,s,p", [((2, 8, 8, 3), 4, 2, 1), ((1, 7, 9, 2), 3, 1, 1), ((2, 6, 6, 1), 4, 2, 0)])
def test_conv_matmul_equals_xla(shape, k, s, p):
    kx, kw = jax.random.split(jax.random.key(0))
    x, w = jax.random.normal(kx, shape), jax.random.normal(kw, (k, k, shape[-1], 5))
    np.testing.assert_allclose(layers.conv_matmul(x, w, s, p), layers.conv_xla(x, w, s, p), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 4, 4, 3), (1, 5, 3, 2)])
def test_conv_transpose_forms_equal_definition(shape):
    kx, kw = jax.random.split(jax.random.key(1))
    x, w = jax.random.normal(kx, shape), jax.random.normal(kw, (4, 4, shape[-1], 6))
    expected = naive_conv_transpose(np.asarray(x, np.float64), np.asarray(w, np.float64), 2, 1)
    assert expected.shape == (shape[0], 2 * shape[1], 2 * shape[2], 6)
    np.testing.assert_allclose(layers.conv_transpose_xla(x, w, 2, 1), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layers.conv_transpose_matmul(x, w, 2, 1), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("transpose", [False, True])
def test_gradients_of_both_lowerings_agree(transpose):
    ops = layers.CONV_TRANSPOSE if transpose else layers.CONV
    kx, kw = jax.random.split(jax.random.key(2))
    x, w = jax.random.normal(kx, (2, 8, 8, 3)), jax.random.normal(kw, (4, 4, 3, 4))

    def loss(impl, x, w):
        return jnp.sum(jnp.sin(ops[impl](x, w, 2, 1)))

    grads = {impl: jax.grad(loss, argnums=(1, 2))(impl, x, w) for impl in ("xla", "matmul")}
    for g_xla, g_mm in zip(grads["xla"], grads["matmul"], strict=True):
        np.testing.assert_allclose(g_mm, g_xla, rtol=1e-4, atol=1e-4)


def test_modules_share_parameter_layout_across_lowerings():
    x = jax.random.uniform(jax.random.key(3), (2, 32, 32, 1))
    stack = {impl: layers.DownStack((4, 8, 8, 8), impl=impl) for impl in ("xla", "matmul")}
    variables = stack["xla"].init(jax.random.key(4), x, train=False)
    out = {impl: m.apply(variables, x, train=False) for impl, m in stack.items()}
    np.testing.assert_allclose(out["matmul"], out["xla"], rtol=1e-5, atol=1e-5)
    up = layers.UpStack(layers.up_widths(4, 32), 1)
    z = jnp.ones((2, 8))
    assert up.apply(up.init(jax.random.key(5), z, train=False), z, train=False).shape == (2, 32, 32, 1)


def test_width_helpers():
    assert layers.down_widths(64) == (64, 128, 256, 512)
    assert layers.up_widths(64, 32) == (256, 128, 64)
    assert layers.up_widths(64, 64) == (512, 256, 128, 64)
    assert layers.resolve_conv_impl("auto") == ("matmul" if jax.default_backend() == "cpu" else "xla")
    with pytest.raises(ValueError):
        layers.up_widths(8, 48)
