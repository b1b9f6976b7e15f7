"""notebooks/colab_tpu.ipynb runs to the end headless on CPU (nbclient), with tiny values in its parameters
cell, and shows its figures: it must not rot."""

from __future__ import annotations

import base64

import nbformat
from conftest import REPO, synthetic_arrays, write_idx_dir
from nbclient import NotebookClient


def test_the_colab_notebook_runs_on_cpu_and_draws_its_figures(tmp_path):
    notebook = nbformat.read(REPO / "notebooks" / "colab_tpu.ipynb", as_version=4)
    (parameters,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    data = write_idx_dir(tmp_path / "idx", synthetic_arrays())
    parameters.source = f"""
REPO_URL = ""
CONFIG = "configs/wgan_gp.py"
SECOND_CONFIG = "configs/gan.py"
STEPS, SECOND_STEPS, SHOW_EVERY = 4, 2, 2
BATCH_PER_DEVICE = 8
FID_SAMPLES = 64
OVERRIDES = {{"model.width": 4, "train.num_grid_images": 4, "train.log_every": 1}}
DATA_DIR = {str(data)!r}
WORKDIR = {str(tmp_path / "runs")!r}
SAVE_TO_DRIVE = False
"""
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for line in ("wgan_gp step 2: FID-MNIST", "wgan_gp step 4: FID-MNIST", "gan step 2: FID-MNIST"):
        assert line in text, text[-2000:]
    assert "FID-MNIST nan" not in text
    pngs = [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})]
    # per piece a sample grid and the loss curves (3 pieces), and one FID curve per model
    assert len(pngs) == 3 * 2 + 2 and all(png.startswith(b"\x89PNG") for png in pngs)
    assert (tmp_path / "runs" / "wgan_gp" / "eval.json").exists() and (tmp_path / "runs" / "gan").is_dir()
