"""Print the README's classifier table (test error, beside the paper's) from the evaluation reports in
experiments/results/eval/, so no number in it is copied by hand. A name with seeds (`cnn_r:0,1,2`) reads
<name>_seed<s>.json and prints mean ± std over them.

python experiments/classifier_table.py cnn_r:0,1,2 st_cnn_r:0,1,2 cnn_rts:0,1,2 st_cnn_rts:0,1,2
python experiments/classifier_table.py cnn_p st_cnn_p
python experiments/classifier_table.py fcn_r:0 st_fcn_r:0 fcn_rts:0 st_fcn_rts:0 st_cnn_tps_e:0
python experiments/classifier_table.py cnn_r_fixed_5ep st_cnn_r_fixed_5ep st_cnn_r_fixed_20ep
python experiments/classifier_table.py fm_gan:0,1,2 fm_gan_supervised:0,1,2 sgan:0
python experiments/classifier_table.py fm_gan_1000:0 fm_gan_1000_supervised:0 fm_gan_paper
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reports import load_reports  # noqa: E402

# Jaderberg et al. 2015 (arXiv:1506.02025), Table 1, % test error on distorted MNIST; Salimans et al. 2016
# (arXiv:1606.03498), Table 1, % test error of the feature-matching GAN at 100 labels
PAPER = {
    "cnn_r": "1.2 (CNN)",
    "st_cnn_r": "0.7 (ST-CNN, affine)",
    "cnn_rts": "0.8 (CNN)",
    "st_cnn_rts": "0.5 (ST-CNN, affine)",
    "cnn_p": "1.5 (CNN)",
    "st_cnn_p": "0.8 (ST-CNN, affine)",
    "cnn_e": "1.4 (CNN)",
    "st_cnn_e": "1.2 (ST-CNN, affine)",
    "fm_gan": "0.93 ± 0.065 (100 labels)",
    "fm_gan_paper": "0.93 ± 0.065 (100 labels)",
}


def paper(name: str) -> str:
    """The paper's figure for a run name; a data or schedule suffix (`st_cnn_r_fixed_20ep`) names the same
    model."""
    return PAPER.get(re.sub(r"(_fixed)?(_\d+ep)?$", "", name), "—")


HEADER = (
    "| config | steps | training wall time | seeds | test error | paper's error (%) |\n"
    "|---|---|---|---|---|---|"
)


def row(spec: str) -> str:
    """One table row for `name` or `name:s1,s2,...` (mean ± sample std over the seeds)."""
    name, seeds, reports = load_reports(spec)
    errors = np.array([100 * r["model"]["test_error"] for r in reports])
    walls = [r["source"].get("train_wall_s") for r in reports]
    error = f"{errors[0]:.2f}%" if len(errors) == 1 else f"{errors.mean():.2f} ± {errors.std(ddof=1):.2f}%"
    wall = " / ".join(f"{w:.0f} s" if w is not None else "—" for w in walls)
    cells = [f"`{name}`", str(reports[0]["source"]["step"]), wall, seeds.replace(",", ", ") or "0", error]
    return "| " + " | ".join([*cells, paper(name)]) + " |"


if __name__ == "__main__":
    print(HEADER)
    for spec in sys.argv[1:]:
        print(row(spec))
