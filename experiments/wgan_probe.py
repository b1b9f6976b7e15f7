"""Probe a trained WGAN: how much of its critic sits at the clip bound, and what gradient the generator
gets from it (issue 19).

    python experiments/wgan_probe.py runs/wgan_bn32

Prints the fraction of critic parameters with |p| >= 0.99 x model.clip_value, and for 64 fakes the
per-image norm of d mean_f(fakes) / d image and the mean cosine between the images' gradients (near 1: the
critic pushes every fake the same way; near 0: unrelated directions). The critic runs in training mode, as
the generator's update sees it. Also the per-pixel spread of the samples (evaluation mode) over the fakes:
near 0 when the generator has collapsed to one image.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

import jaxgen
from jaxgen.models.family import apply_net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--fakes", type=int, default=64)
    args = parser.parse_args()
    model = jaxgen.load(args.workdir)
    params, state = model.state["params"], model.state["state"]
    gen, disc = model.family.networks["gen"], model.family.networks["disc"]
    clip = model.config.model.clip_value
    magnitudes = np.concatenate([np.abs(np.asarray(p)).ravel() for p in jax.tree.leaves(params["disc"])])
    at_bound = np.mean(magnitudes >= 0.99 * clip)
    print(f"critic parameters at the clip bound: {at_bound:.3f} of {magnitudes.size}")

    z = jax.random.normal(jax.random.key(0), (args.fakes, model.config.model.latent_dim))
    fakes, _ = apply_net(gen, "gen", params, state, z, train=True)

    def mean_score(images):
        return apply_net(disc, "disc", params, state, images, train=True)[0].mean()

    drawn, _ = apply_net(gen, "gen", params, state, z, train=False)
    spread = float(np.asarray(drawn).std(axis=0).mean())
    print(f"sample spread (per-pixel std over the fakes, [-1, 1] pixels; MNIST's is 0.27): {spread:.4f}")

    grads = np.asarray(jax.grad(mean_score)(fakes)).reshape(args.fakes, -1)
    norms = np.linalg.norm(grads, axis=1)
    unit = grads / norms[:, None]
    cosines = (unit @ unit.T)[np.triu_indices(args.fakes, 1)]
    print(f"gradient per fake image: norm {norms.mean():.3g}, mean cosine {cosines.mean():.3f}")


if __name__ == "__main__":
    main()
