"""Domain B's own reconstructions in UNIT runs: the first test images of a target above each run's
reconstruction of them (B's encoder, then B's decoder, the code's mean without noise, in the image's own
style where the run has styles), with the mean L1 per pixel. It shows whether a run's second autoencoder
learned the digit at all, which its adaptation and translations depend on (the coloured digits:
experiments/README.md, UNIT).

    python experiments/unit_reconstructions.py coloured runs/unit_coloured runs/unit_coloured_cls0 \\
        --out experiments/results/figures/unit_coloured_b_reconstructions.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from adaptation import target_test_split  # experiments/adaptation.py, beside this script

import jaxgen
from jaxgen import viz
from jaxgen.data import to_float


def reconstruct_b(workdir: str, images: np.ndarray) -> np.ndarray:
    """Domain B images [N, S, S, C] in [0, 1] through the run's B encoder (mean code) and B decoder, in
    their own styles where the run has them."""
    return jaxgen.load(workdir).reconstruct_b(images)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("target", help="the runs' target domain, as experiments/adaptation.py names it")
    parser.add_argument("workdirs", nargs="+")
    parser.add_argument("--n", type=int, default=8, help="test images to draw")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    images = np.asarray(to_float(jnp.asarray(target_test_split(args.target)[0][: args.n])))
    rows = {"test images": images}
    for workdir in args.workdirs:
        recon = reconstruct_b(workdir, images)
        title = f"{Path(workdir).name}: L1 {np.abs(recon - images).mean():.3f}"
        rows[title] = np.clip(recon, 0.0, 1.0)
        print(title)
    print(f"wrote {viz.save_rows(args.out, rows)}")


if __name__ == "__main__":
    main()
