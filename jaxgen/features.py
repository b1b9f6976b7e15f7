"""The evaluation metrics' feature extractor: a small MNIST classifier whose weights ship with jaxgen.

Every user scores samples in the same feature space, so the weights are a file in the package
(jaxgen/assets/mnist_classifier.npz) with a JSON record of its sha256 and provenance; eval.json records
the hash. Inception features are not used: no weights are reachable offline, and the FID authors advise
against Inception statistics for datasets as unlike ImageNet as MNIST.

Rebuild the weights (deterministic from the config seed on a given machine and JAX version):
    python -m jaxgen.features --workdir=runs/feature_extractor

Two-domain models are scored in their target domain by the same classifier trained on that domain's images
(jaxgen/data/domains.py: edges, negatives, ...), so digit preservation is read by a network that never saw
a generated image: jaxgen/assets/<domain>_classifier.npz, built by
    python -m jaxgen.features --domain=edges --workdir=runs/extractor_edges
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import layers
from jaxgen.data import to_float
from jaxgen.data.mnist import file_sha256
from jaxgen.metrics import map_chunks
from jaxgen.models.classifier import Classifier

ASSETS = Path(__file__).parent / "assets"
ASSET = ASSETS / "mnist_classifier.npz"
BUILD_COMMAND = "python -m jaxgen.features --workdir=runs/feature_extractor"
IMAGE_SHAPE = (32, 32, 1)


def domain_asset(domain: str) -> Path:
    """The packaged classifier of MNIST digits in domain `domain` ('original': the metrics' extractor)."""
    return ASSET if domain == "original" else ASSETS / f"{domain}_classifier.npz"


def build_command(domain: str) -> str:
    """The command that builds the packaged classifier of `domain`."""
    if domain == "original":
        return BUILD_COMMAND
    return f"python -m jaxgen.features --domain={domain} --workdir=runs/extractor_{domain}"


class ExtractorError(RuntimeError):
    """The packaged feature extractor is missing, altered, or cannot read the given images."""


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a static argument of jitted helpers
class Extractor:
    module: Classifier
    variables: dict
    sha256: str
    info: dict  # the JSON record: width, test accuracy, steps, seed, command, domain, image shape

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.info.get("image_shape", IMAGE_SHAPE))


def _flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    flat = {}
    for name, value in tree.items():
        key = f"{prefix}/{name}" if prefix else name
        flat.update(_flatten(value, key) if isinstance(value, dict) else {key: np.asarray(value)})
    return flat


def _fill(template: dict, flat: dict[str, np.ndarray], prefix: str = "") -> dict:
    """template's structure with flat's arrays; every name and shape must match exactly."""
    out = {}
    for name, value in template.items():
        key = f"{prefix}/{name}" if prefix else name
        if isinstance(value, dict):
            out[name] = _fill(value, flat, key)
            continue
        if key not in flat or flat[key].shape != value.shape:
            found = flat[key].shape if key in flat else "nothing"
            raise ExtractorError(f"extractor weights: {key} should be {value.shape}, found {found}")
        out[name] = jnp.asarray(flat[key], value.dtype)
    return out


def write_weights(path: Path, variables: dict) -> str:
    """Write variables as an .npz with fixed zip timestamps (same weights -> same bytes); return sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in sorted(_flatten(variables).items()):
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(value, np.float32), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), entry.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return file_sha256(path)


def load_extractor(path: str | Path | None = None, domain: str = "original") -> Extractor:
    """Load and verify the packaged extractor of a domain (or the .npz at path, with its .json record
    beside it)."""
    path = Path(path or domain_asset(domain))
    record, command = path.with_suffix(".json"), build_command(domain)
    if not path.exists() or not record.exists():
        raise ExtractorError(f"no feature extractor at {path} (+ .json); build it with: {command}")
    info = json.loads(record.read_text())
    digest = file_sha256(path)
    if digest != info["sha256"]:
        raise ExtractorError(
            f"{path} has sha256 {digest}, but {record.name} records {info['sha256']}; "
            f"restore the file from the package or rebuild it with: {command}"
        )
    module, variables = _read_weights(path, info["width"], tuple(info.get("image_shape", IMAGE_SHAPE)))
    return Extractor(module, variables, digest, info)


def _read_weights(
    path: Path, width: int, shape: tuple[int, int, int] = IMAGE_SHAPE
) -> tuple[Classifier, dict]:
    """The CNN of that width and its variables from the .npz (plain arrays only, no pickle)."""
    module = Classifier(widths=layers.down_widths(width))
    template = module.init(jax.random.key(0), jnp.zeros((1, *shape)), train=False)
    with np.load(path, allow_pickle=False) as f:
        flat = {name: f[name] for name in f.files}
    return module, _fill(jax.device_get(template), flat)


def check_images(
    images: np.ndarray | jax.Array, what: str = "images", shape: tuple[int, int, int] = IMAGE_SHAPE
) -> None:
    """The extractor reads [N, *shape] images ([N, 32, 32, 1] for MNIST), uint8 or float in [0, 1]."""
    if tuple(images.shape[1:]) != tuple(shape):
        raise ExtractorError(
            f"{what} have shape {tuple(images.shape)}; the MNIST feature extractor needs [N, "
            f"{', '.join(map(str, shape))}] (MNIST-like data, padded to 32 as jaxgen.data does)"
        )
    if images.dtype != np.uint8:
        low, high = float(jnp.min(images)), float(jnp.max(images))
        if low < -1e-3 or high > 1 + 1e-3:
            raise ExtractorError(f"{what} range over [{low:.3g}, {high:.3g}]; expected [0, 1]")


def extract(extractor: Extractor, images, chunk: int = 500) -> tuple[jax.Array, jax.Array]:
    """(features [N, F], class probabilities [N, 10]) of images, in fixed-size chunks on device."""
    check_images(images, shape=extractor.image_shape)
    return _extract(extractor, jnp.asarray(images), chunk)


@functools.partial(jax.jit, static_argnums=(0, 2))
def _extract(extractor: Extractor, images, chunk: int):
    def one(x):
        x = to_float(x) if x.dtype == jnp.uint8 else x.astype(jnp.float32)
        features, logits = extractor.module.apply(extractor.variables, x, train=False, with_features=True)
        return features, jax.nn.softmax(logits)

    return map_chunks(one, images, chunk)


# ----------------------------------------------------------------------------------------- building


def _load_config(path: str):
    spec = importlib.util.spec_from_file_location("extractor_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def build(
    workdir: str | Path,
    config_path: str = "configs/feature_extractor.py",
    output: Path | None = None,
    domain: str = "original",
) -> dict:
    """Train (or resume) the extractor config in workdir on the digits of `domain`, then write output
    (default: the domain's packaged asset) and its .json record."""
    from jaxgen import runtime
    from jaxgen import train as train_lib
    from jaxgen.data import load_dataset
    from jaxgen.data.domains import DOMAINS

    if domain not in DOMAINS:
        raise ExtractorError(f"--domain={domain!r}: expected one of {sorted(DOMAINS)}")
    output = Path(output or domain_asset(domain))
    config = _load_config(config_path)
    config.data.domain_a = domain
    family = runtime.build_family(config)
    network = family.networks.get("cls")
    if not isinstance(network, Classifier) or network.arch != "cnn" or config.data.name != "mnist":
        raise ExtractorError(f"{config_path} must configure an MNIST classifier (a 'cls' CNN network)")
    width = family.networks["cls"].widths[0]
    dataset = load_dataset(config.data)
    ts = train_lib.train(config, workdir, dataset=dataset)
    accuracy = float(
        runtime.evaluate_split(
            family, ts, {"test_images": dataset.test_images, "test_labels": dataset.test_labels}
        )["accuracy"]
    )
    digest = write_weights(output, jax.device_get({"params": ts["params"]["cls"], **ts["state"]["cls"]}))
    shape = tuple(dataset.image_shape)
    module, variables = _read_weights(output, width, shape)
    features, _ = extract(
        Extractor(module, variables, digest, {"image_shape": shape}), dataset.test_images[:1]
    )
    info = {
        "sha256": digest,
        "domain": domain,
        "image_shape": list(shape),
        "width": width,
        "feature_dim": int(features.shape[1]),
        "test_accuracy": accuracy,
        "steps": int(ts["step"]),
        "seed": config.seed,
        "config": config_path,
        "command": build_command(domain),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    output.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Train the metrics' MNIST feature extractor and package it.")
    parser.add_argument("--workdir", required=True, help="training folder (rerunning resumes)")
    parser.add_argument("--config", default="configs/feature_extractor.py")
    parser.add_argument("--domain", default="original", help="the digits' domain (data/domains.py)")
    parser.add_argument("--output", type=Path, default=None, help="default: the domain's packaged asset")
    args = parser.parse_args(argv)
    args.output = args.output or domain_asset(args.domain)
    info = build(args.workdir, args.config, args.output, args.domain)
    print(json.dumps(info, indent=2))
    print(f"wrote {args.output} (sha256 {info['sha256']}); commit it with its .json record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
