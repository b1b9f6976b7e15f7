"""Image grids and loss curves."""

from __future__ import annotations

import json

import numpy as np

from jaxgen import viz


def test_image_grid_places_each_image_with_padding():
    images = np.stack([np.full((3, 2, 1), v, np.float32) for v in (0.0, 0.5, 1.0)])
    grid = viz.image_grid(images, columns=2, pad=1)
    assert grid.shape == (2 * (3 + 1) + 1, 2 * (2 + 1) + 1, 1)
    assert (grid[1:4, 1:3] == 0.0).all() and (grid[1:4, 4:6] == 0.5).all() and (grid[5:8, 1:3] == 1.0).all()
    assert (grid[5:8, 4:6] == 1.0).all()  # the empty cell stays white
    assert viz.image_grid(np.full((1, 2, 2, 1), 7.0)).max() == 1.0  # clipped to [0, 1]


def test_loss_curves_plot_train_metrics_only(tmp_path):
    records = [{"kind": "train", "step": s, "gen/loss": 1.0 / s, "images_per_s": 5.0} for s in (1, 2, 3)]
    records.append({"kind": "eval", "step": 3, "test_accuracy": 0.5})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert viz.save_loss_curves(tmp_path / "m.jsonl", tmp_path / "c.png").stat().st_size > 1000
    (tmp_path / "e.jsonl").write_text(json.dumps(records[-1]) + "\n")
    assert viz.save_loss_curves(tmp_path / "e.jsonl", tmp_path / "none.png") is None
