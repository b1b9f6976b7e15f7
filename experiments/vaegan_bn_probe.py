"""Does a trained VAE-GAN's decoder draw worse digits from the prior with BatchNorm's running statistics
than with the statistics it was trained under? (issue 19)

    python experiments/vaegan_bn_probe.py runs/vaegan

FID-MNIST of the same prior codes decoded three ways: in evaluation mode (the running statistics, what
`--mode=eval` and `sample` use); in training mode a training batch of prior codes at a time (each batch
normalised by its own statistics, as the GAN loss saw prior samples when the decoder's recon and prior
passes were separate); and in training mode with each batch of prior codes beside as many posterior codes
of test images (the statistics of the mixed batch the decoder sees when it decodes both in one pass).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import jaxgen
from jaxgen import features, metrics
from jaxgen.data import load_dataset, to_float
from jaxgen.models.family import apply_net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    model = jaxgen.load(args.workdir)
    config = model.config
    params, state = model.state["params"], model.state["state"]
    dec, enc = model.family.networks["dec"], model.family.networks["enc"]
    batch, latent = config.train.batch_size, config.model.latent_dim
    dataset = load_dataset(config.data)
    shape = dataset.image_shape
    n = args.samples // batch * batch
    codes = jax.random.normal(jax.random.key(0), (n // batch, batch, latent))
    test = to_float(jnp.asarray(dataset.test_images[:n])).reshape(n // batch, batch, *shape)

    def decode(z, train):
        (out, _), _ = apply_net(dec, "dec", params, state, z, train=train)
        return jax.nn.sigmoid(out).reshape(-1, *shape)

    @jax.jit
    def mixed(z, images):
        (mean, logvar), _ = apply_net(enc, "enc", params, state, images, train=False)
        posterior = mean + jnp.exp(0.5 * logvar) * jax.random.normal(jax.random.key(1), mean.shape)
        return decode(jnp.concatenate([posterior, z]), True)[z.shape[0] :]

    ways = {
        "running statistics (evaluation mode)": jax.jit(lambda z: decode(z, False)),
        f"each batch of {batch} prior codes' own statistics": jax.jit(lambda z: decode(z, True)),
    }
    drawn = {name: jnp.concatenate([fn(z) for z in codes]) for name, fn in ways.items()}
    drawn[f"a batch of {batch} prior codes beside {batch} posterior codes"] = jnp.concatenate(
        [mixed(z, x) for z, x in zip(codes, test, strict=True)]
    )
    extractor = features.load_extractor(config.eval.extractor or None)
    reference, _ = features.extract(extractor, dataset.test_images, config.eval.chunk)
    print(f"{args.workdir} at step {model.step}: FID-MNIST of {n} prior samples")
    for name, images in drawn.items():
        fake, _ = features.extract(extractor, np.asarray(images), config.eval.chunk)
        print(f"  {name}: {float(metrics.fid(reference, fake)):.1f}")


if __name__ == "__main__":
    main()
