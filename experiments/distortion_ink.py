"""How hard a distorted MNIST is, and where a classifier's errors sit: the test digits binned by the share
of their ink the distortion keeps (a digit squeezed into a corner by a strong projective warp keeps
little), with each trained run's test error per bin.

    python experiments/distortion_ink.py distorted_p runs/cnn_p runs/st_cnn_p \
        --out experiments/results/distortion_ink_p.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from jaxgen import load
from jaxgen.config import base_config
from jaxgen.data import load_dataset

BINS = (0.0, 0.2, 0.35, 0.5, 0.75, 10.0)  # ink kept: distorted over original pixel sum


def ink_kept(distortion: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ink kept [N], distorted images, labels [N]) of the test split in `distortion`; ink kept is the
    distorted digit's pixel sum over the undistorted one's."""
    plain = load_dataset(base_config("classifier").data)
    distorted = load_dataset(base_config("classifier", data={"domain_a": distortion}).data)
    before = plain.test_images.reshape(len(plain.test_images), -1).sum(1)
    after = distorted.test_images.reshape(len(distorted.test_images), -1).sum(1)
    return after / before, distorted.test_images, distorted.test_labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("distortion")
    parser.add_argument("workdirs", nargs="+")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    kept, images, labels = ink_kept(args.distortion)
    which = np.digitize(kept, BINS) - 1
    report = {
        "distortion": args.distortion,
        "ink_kept_quantiles": {str(q): float(np.quantile(kept, q)) for q in (0.01, 0.05, 0.5, 0.95)},
        "bins": [],
    }
    wrong = {w: load(w).classify(images).argmax(-1) != labels for w in args.workdirs}
    for b in range(len(BINS) - 1):
        members = which == b
        row = {"ink_kept": [BINS[b], BINS[b + 1]], "test_images": int(members.sum())}
        for w, miss in wrong.items():
            row[Path(w).name] = {"errors": int(miss[members].sum()), "error": float(miss[members].mean())}
        report["bins"].append(row)
    for w, miss in wrong.items():
        report[Path(w).name] = {"test_error": float(miss.mean())}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
