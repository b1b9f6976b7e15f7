"""`--mode=viz`: the seeds' "basics" pictures for a workdir.

- PCA and t-SNE of MNIST test images (pixels), coloured by digit;
- the same for the model's codes when its family can encode (2-D codes are plotted directly: the
  seeds' latent scatter), and for 2-D codes the decoded manifold over a grid of codes;
- for families that encode and decode: an interpolation GIF (and strip) between pairs of test images;
- the denoising figure (clean / corrupted / restored) for denoising models, and weight matrices worth
  seeing (the linear AE's W2.W1 against the identity);
- train vs test accuracy per epoch when the run logged accuracies (the classifier).
t-SNE is scikit-learn's (Barnes-Hut), after a 50-component PCA as its documentation advises.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import runtime, viz
from jaxgen.data import load_dataset
from jaxgen.workdir import check_usable


def pca_2d(points: np.ndarray) -> np.ndarray:
    """First two principal components [N, 2]."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2).fit_transform(points)


def tsne_2d(points: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE (perplexity 30, less for tiny sets; PCA init) [N, 2]; wide inputs go through a 50-d PCA."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if points.shape[1] > 50 and len(points) > 50:
        points = PCA(n_components=50, random_state=seed).fit_transform(points)
    perplexity = min(30.0, (len(points) - 1) / 3)
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(points)


def embedding_panels(points: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """{'PCA': ..., 't-SNE': ...}, or the points themselves when they are already 2-D."""
    points = np.asarray(points, np.float64)
    if points.shape[1] == 2:
        return {"codes (2-D latent)": points}
    return {"PCA": pca_2d(points), "t-SNE": tsne_2d(points, seed)}


def manifold_codes(code_space: str, codes: np.ndarray, n: int = 20) -> np.ndarray:
    """An n x n grid of 2-D codes [n * n, 2], row-major from the top-left (high y, low x).

    'gaussian': Gaussian quantiles 0.05..0.95 (a N(0, I) prior, as the VAE paper's manifold figure);
    'unit_box': (0, 1) for sigmoid-bounded codes; 'data': the 1st-99th percentile box of the given codes.
    """
    if code_space == "gaussian":
        from scipy.stats import norm

        axes = [norm.ppf(np.linspace(0.05, 0.95, n))] * 2
    elif code_space == "unit_box":
        axes = [np.linspace(0.025, 0.975, n)] * 2
    elif code_space == "data":
        low, high = np.percentile(codes, [1, 99], axis=0)
        axes = [np.linspace(low[i], high[i], n) for i in range(2)]
    else:
        raise ValueError(f"unknown code space {code_space!r}")
    ys, xs = np.meshgrid(axes[1][::-1], axes[0], indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


def interpolation_frames(
    family, params, state, start: jax.Array, end: jax.Array, steps: int, decode=None
) -> np.ndarray:
    """Decoded straight lines between the codes of start and end images [N, S, S, C] -> [steps, N, S, S, C']
    (by family.can.decode, or `decode`: another domain's decoder of the same latent space).

    Frame 0 decodes start's codes and the last frame end's (the reconstructions, not the inputs).
    """
    codes_a, codes_b = family.can.encode(params, state, start), family.can.encode(params, state, end)
    t = jnp.linspace(0.0, 1.0, steps)[:, None, None]
    path = (1.0 - t) * codes_a[None] + t * codes_b[None]  # [steps, N, D]
    decoded = np.asarray((decode or family.can.decode)(params, state, path.reshape(-1, path.shape[-1])))
    return decoded.reshape(steps, start.shape[0], *decoded.shape[1:])


def as_rgb(images: np.ndarray) -> np.ndarray:
    """Grey images [..., 1] repeated to three channels; RGB images as they are."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def draw_figures(config: ml_collections.ConfigDict, workdir: str | Path) -> list[Path]:
    """Write the pictures that apply to workdir into workdir/figures; return their paths."""
    from jaxgen.evaluate import encode_images

    workdir = Path(workdir)
    check_usable(workdir, create=False)
    runtime.prepare_backend(config)
    dataset = load_dataset(config.data)
    n = min(config.eval.embed_points, len(dataset.test_images))
    chosen = np.sort(
        np.asarray(jax.random.permutation(jax.random.key(config.eval.seed), len(dataset.test_images))[:n])
    )
    images, labels = dataset.test_images[chosen], dataset.test_labels[chosen]
    figures = workdir / "figures"
    written = []

    runtime.log(f"PCA and t-SNE of {n} test images (pixels)")
    pixels = images.reshape(n, -1).astype(np.float64) / 255.0
    written.append(
        viz.save_embeddings(
            figures / "pixels_pca_tsne.png",
            embedding_panels(pixels, config.seed),
            labels,
            f"{config.data.name} test images, {n} points",
        )
    )
    try:
        family, ts = runtime.restore_model(config, workdir, dataset)
    except FileNotFoundError:
        runtime.log(f"no checkpoint in {workdir / 'checkpoints'}: drew the data pictures only")
        family = None
    if family is not None and family.can.encode is not None:
        codes = np.asarray(
            encode_images(family, ts["params"], ts["state"], jnp.asarray(images), config.eval.chunk)
        )
        runtime.log(
            f"embedding {n} codes of dimension {codes.shape[1]} ({config.model.name}, step {int(ts['step'])})"
        )
        written.append(
            viz.save_embeddings(
                figures / "codes.png",
                embedding_panels(codes, config.seed),
                labels,
                f"{config.model.name} codes (dim {codes.shape[1]}), step {int(ts['step'])}",
            )
        )
        written += code_pictures(family, ts, codes, images, labels, figures, config, workdir.name)
        if family.can.decode is not None and codes.shape[1] == 2:
            grid = manifold_codes(family.can.code_space, codes)
            decoded = np.asarray(jax.jit(family.can.decode)(ts["params"], ts["state"], jnp.asarray(grid)))
            written.append(viz.save_grid(figures / "manifold.png", decoded, columns=int(np.sqrt(len(grid)))))
    if family is not None:
        written += model_pictures(family, ts, images, figures, config.eval.seed, dataset.train_images)
    metrics_file = workdir / "metrics.jsonl"
    if metrics_file.exists():
        steps_per_epoch = dataset.train_images.shape[0] // config.train.batch_size
        train, test = viz.epoch_accuracy(viz.read_metrics(metrics_file), steps_per_epoch)
        if train and test:
            written.append(viz.save_accuracy_curves(figures / "accuracy_curves.png", train, test))
    for path in written:
        runtime.log(f"wrote {path}")
    return written


PRIOR_SAMPLES = 100_000  # prior draws behind the prior-fit picture
STYLE_TRANSFER_ROWS = 10


def code_pictures(
    family, ts, codes: np.ndarray, images: np.ndarray, labels, figures: Path, config, run: str
) -> list[Path]:
    """Pictures of codes pushed to a prior: the prior fit (2-D codes over the prior's density), and for
    (digit, style) models the per-digit style distributions and the style transfer table."""
    from jaxgen.data import to_float

    written = []
    name = f"{run} ({config.model.name}), step {int(ts['step'])}"
    prior = family.can.prior
    if prior is not None and codes.shape[1] == 2:
        drawn = np.asarray(
            jax.jit(prior.draw, static_argnums=1)(jax.random.key(config.eval.seed), PRIOR_SAMPLES)
        )
        title = f"{name}: prior {prior.name}, {len(codes)} test codes"
        written.append(viz.save_prior_fit(figures / "prior_fit.png", drawn, codes, labels, title))
    if family.pictures.restyle is not None:
        title = f"{name}: test styles per digit (curves) against N(0, 1) (dashed)"
        written.append(
            viz.save_style_distributions(figures / "style_distributions.png", codes, labels, title)
        )
        inputs = jnp.asarray(to_float(images[:STYLE_TRANSFER_ROWS]))
        written_as = np.asarray(jax.jit(family.pictures.restyle)(ts["params"], ts["state"], inputs))
        table = np.concatenate([np.asarray(inputs)[:, None], written_as], axis=1)
        written.append(
            viz.save_table(
                figures / "style_transfer.png",
                table,
                "each row: a test image (left), its encoded style written as the digits 0-9",
                [str(int(y)) for y in labels[:STYLE_TRANSFER_ROWS]],
                "input | digits 0 1 2 3 4 5 6 7 8 9",
            )
        )
    return written


SWEEP_COLUMNS = 10  # columns of the sweep tables (noise vectors, or values of a continuous code)
SWEEP_TITLES = {
    "digits": "rows: requested digit; columns: one noise vector (or style) each, shared by the rows",
    "category": "rows: categorical code c1; columns: one noise vector each, shared by the rows",
    "continuous": "{name}: rows: categorical code; columns: its value from -2 to 2 (trained on -1 to 1)",
}
SWEEP_COLUMN_NOTES = {"digits": "noise or style", "category": "noise", "continuous": "code value -2 ... 2"}
INTERPOLATION_PAIRS = 8
INTERPOLATION_STEPS = 12


def model_pictures(
    family, ts, images: np.ndarray, figures: Path, seed: int, train_images: np.ndarray
) -> list[Path]:
    """Interpolation GIF / strip, denoising figure and weight matrices, where the family supports them."""
    from jaxgen.data import to_float

    params, state = ts["params"], ts["state"]
    written = []
    if family.can.encode is not None and family.can.decode is not None:
        pair = jnp.asarray(to_float(images[: 2 * INTERPOLATION_PAIRS]))
        frames = interpolation_frames(family, params, state, pair[::2], pair[1::2], INTERPOLATION_STEPS)
        written.append(viz.save_gif(figures / "interpolation.gif", np.concatenate([frames, frames[-2:0:-1]])))
        # the strip: one row per pair, start image (input) | decoded path | end image (input)
        strip = np.concatenate([np.asarray(pair[::2])[None], frames, np.asarray(pair[1::2])[None]])
        strip = np.swapaxes(strip, 0, 1).reshape(-1, *frames.shape[2:])
        written.append(viz.save_grid(figures / "interpolation.png", strip, columns=INTERPOLATION_STEPS + 2))
        if family.can.decode_b is not None:  # the same paths written in both domains, pair by pair
            decode_b = family.can.decode_b
            frames_b = interpolation_frames(
                family, params, state, pair[::2], pair[1::2], INTERPOLATION_STEPS, decode_b
            )
            if frames.shape[-1] != frames_b.shape[-1]:  # grey and coloured domains: both as RGB
                frames, frames_b = as_rgb(frames), as_rgb(frames_b)
            rows = np.stack([frames, frames_b], axis=2)  # [steps, pairs, 2, S, S, C]
            rows = np.transpose(rows, (1, 2, 0, 3, 4, 5)).reshape(-1, *rows.shape[3:])
            path = figures / "interpolation_domains.png"
            written.append(viz.save_grid(path, rows, columns=INTERPOLATION_STEPS))
    if family.pictures.corrupt is not None and family.can.reconstruct is not None:
        clean = jnp.asarray(to_float(images[:10]))
        corrupted = family.pictures.corrupt(jax.random.key(seed), clean)
        restored = family.can.reconstruct(params, state, corrupted)
        written.append(
            viz.save_rows(
                figures / "denoising.png",
                {"clean": clean, "corrupted (input)": corrupted, "restored": restored},
            )
        )
    if family.pictures.sweeps is not None:
        sweeps = jax.jit(family.pictures.sweeps, static_argnums=3)
        tables = sweeps(params, state, jax.random.key(seed), SWEEP_COLUMNS)
        for name, table in tables.items():
            table = np.asarray(table)
            written.append(
                viz.save_table(
                    figures / f"sweep_{name}.png",
                    table,
                    SWEEP_TITLES.get(name.split("_")[0], name).format(name=name),
                    [str(i) for i in range(table.shape[0])],
                    SWEEP_COLUMN_NOTES.get(name.split("_")[0], ""),
                )
            )
    if family.pictures.matrices is not None:
        written += matrix_pictures(family.pictures.matrices(params), train_images, figures)
    return written


def matrix_pictures(matrices: dict, train_images: np.ndarray, figures: Path) -> list[Path]:
    """Each matrix (x_hat = W x over the modelled pixels) beside the identity, with how close it is to the
    identity on the span of the training images and off it (figures/matrices.png and matrices.json)."""
    from jaxgen import layers, metrics

    written, fits = [], {}
    for title, matrix in matrices.items():
        matrix = np.asarray(matrix)
        side = int(round(np.sqrt(len(matrix))))
        crop = (train_images.shape[1] - side) // 2  # the model reads the pixels inside this border
        data = np.asarray(layers.crop_flat(train_images, crop), np.float64) / 255.0
        fits[title] = metrics.identity_fit(matrix, data)
        written.append(
            viz.save_matrix_vs_identity(figures / "matrices.png", title, matrix, side, fits[title])
        )
    (figures / "matrices.json").write_text(json.dumps(fits, indent=2) + "\n")
    return written
