"""The classifier and its spatial-transformer variant (ST-CNN): identity start, trained end to end."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from conftest import tiny_config

from jaxgen import runtime


def st_family():
    config = tiny_config("classifier")
    config.model.spatial_transformer = True
    family = runtime.build_family(config)
    return family, runtime.init_state(family, jax.random.key(0))


def test_spatial_transformer_starts_at_the_identity_and_draws_its_rectified_inputs(tmp_path):
    family, ts = st_family()
    params, state = ts["params"], ts["state"]
    images = jax.random.uniform(jax.random.key(1), (3, 32, 32, 1))
    np.testing.assert_allclose(family.can.rectify(params, state, images), images, atol=1e-5)
    plain = runtime.build_family(tiny_config("classifier"))
    without_localiser = {"cls": {k: v for k, v in params["cls"].items() if k != "localiser"}}
    np.testing.assert_allclose(
        family.can.classify(params, state, images),
        plain.can.classify(without_localiser, state, images),
        rtol=1e-5,
        atol=1e-5,
    )
    data = {"test_images": (np.asarray(images) * 255).astype(np.uint8)}
    runtime.write_pictures(family, ts, data, None, tmp_path, 3, "0000001")
    assert (tmp_path / "samples" / "rectified_0000001.png").stat().st_size > 0
    assert runtime.build_family(tiny_config("classifier")).can.rectify is None


def test_the_classification_loss_trains_the_localiser():
    family, ts = st_family()
    (update,) = family.updates
    batch = {"image": jax.random.uniform(jax.random.key(2), (4, 32, 32, 1)), "label": jnp.arange(4)}
    grads = jax.grad(lambda p: update.loss(p, ts["state"], batch, jax.random.key(3))[0])(ts["params"])
    localiser = grads["cls"]["localiser"]
    assert float(jnp.abs(localiser["Dense_1"]["bias"]).sum()) > 0.0  # the affine map itself
    assert float(jnp.abs(localiser["Conv_0"]["kernel"]).sum()) == 0.0  # zero output weights: no signal yet
