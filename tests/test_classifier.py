"""The classifier (CNN or FCN) and its spatial-transformer variants (ST-CNN, ST-FCN): identity start, trained
end to end."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_config

from jaxgen import runtime


def classifier_config(arch: str, spatial_transformer: bool = False, transform: str = "affine"):
    config = tiny_config("classifier")
    config.model.arch = arch
    config.model.hidden = 16
    config.model.spatial_transformer = spatial_transformer
    config.model.transform = transform
    return config


def st_family(arch: str = "cnn", transform: str = "affine"):
    family = runtime.build_family(classifier_config(arch, spatial_transformer=True, transform=transform))
    return family, runtime.init_state(family, jax.random.key(0))


ST_MODELS = [("cnn", "affine"), ("fcn", "affine"), ("cnn", "tps"), ("fcn", "tps")]


@pytest.mark.parametrize("arch, transform", ST_MODELS)
def test_spatial_transformer_starts_at_the_identity_and_draws_its_rectified_inputs(tmp_path, arch, transform):
    family, ts = st_family(arch, transform)
    params, state = ts["params"], ts["state"]
    images = jax.random.uniform(jax.random.key(1), (3, 32, 32, 1))
    np.testing.assert_allclose(family.can.rectify(params, state, images), images, atol=1e-5)
    plain = runtime.build_family(classifier_config(arch))
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
    assert runtime.build_family(classifier_config(arch)).can.rectify is None


# per arch: the localiser's output layer and its first layer
LOCALISER_LAYERS = {"cnn": ("Dense_1", "Conv_0"), "fcn": ("Dense_2", "Dense_0")}


@pytest.mark.parametrize("arch, transform", ST_MODELS)
def test_the_classification_loss_trains_the_localiser(arch, transform):
    family, ts = st_family(arch, transform)
    (update,) = family.updates
    batch = {"image": jax.random.uniform(jax.random.key(2), (4, 32, 32, 1)), "label": jnp.arange(4)}
    grads = jax.grad(lambda p: update.loss(p, ts["state"], batch, jax.random.key(3))[0])(ts["params"])
    localiser = grads["cls"]["localiser"]
    head, first = LOCALISER_LAYERS[arch]
    assert localiser[head]["bias"].shape == ((6,) if transform == "affine" else (32,))  # 4 x 4 points
    assert float(jnp.abs(localiser[head]["bias"]).sum()) > 0.0  # the transform itself
    assert float(jnp.abs(localiser[first]["kernel"]).sum()) == 0.0  # zero output weights: no signal yet


def test_the_fcn_is_fully_connected_on_the_whole_image():
    """Every pixel reaches every logit through model.depth hidden layers of model.hidden units."""
    config = classifier_config("fcn")
    config.model.depth = 3
    family = runtime.build_family(config)
    params = runtime.init_state(family, jax.random.key(0))["params"]["cls"]
    shapes = [params[f"Dense_{i}"]["kernel"].shape for i in range(4)]
    assert shapes == [(1024, 16), (16, 16), (16, 16), (16, 10)]
    image = jax.random.uniform(jax.random.key(4), (1, 32, 32, 1))
    jacobian = jax.jacobian(lambda x: family.can.classify({"cls": params}, {}, x)[0])(image)
    assert bool(jnp.all(jnp.any(jacobian != 0, axis=0)))  # no pixel is ignored


def test_tps_needs_a_grid_of_at_least_two_by_two_points():
    from jaxgen.config import ConfigError, validate

    config = classifier_config("cnn", spatial_transformer=True, transform="tps")
    config.model.tps_points = 1
    with pytest.raises(ConfigError, match="model.tps_points=1"):
        validate(config)
