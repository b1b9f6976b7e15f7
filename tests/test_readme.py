"""The README's tables are printed from experiments/results; this fails when one was edited by hand or its
result files changed without regenerating it (`python experiments/readme_tables.py --write`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import load_config_file, load_module

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "experiments" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_readme_table_matches_its_result_files(capsys):
    script = load_script()
    readme = (ROOT / "README.md").read_text()
    assert len(script.tables(readme)) >= 10  # every generated table carries its command
    assert script.main(["--check"]) == 0, capsys.readouterr().out


def test_a_hand_edited_table_is_caught(tmp_path, capsys):
    script = load_script()
    readme = (ROOT / "README.md").read_text()
    table = script.tables(readme)[0]
    lines = table["table"].splitlines()
    edited = readme.replace(table["table"], "\n".join([*lines[:2], lines[2].replace("|", "| 9", 2)]) + "\n")
    (tmp_path / "README.md").write_text(edited)
    assert script.main(["--check", f"--readme={tmp_path / 'README.md'}"]) == 1
    assert script.main(["--write", f"--readme={tmp_path / 'README.md'}"]) == 0
    assert (tmp_path / "README.md").read_text() == readme


def test_every_gallery_row_names_a_config_and_a_picture_that_exist():
    gallery = load_module(ROOT / "experiments" / "gallery.py")
    for _, config, figure, *_ in gallery.GALLERY:
        assert (ROOT / "configs" / config).is_file(), config
        assert (ROOT / gallery.FIGURES / figure).is_file(), figure


def test_a_gallery_card_that_names_its_config_alone_was_trained_at_the_configs_length():
    """A card without stated settings claims the config as it is: its runs stopped at the config's steps."""
    gallery = load_module(ROOT / "experiments" / "gallery.py")
    for model, config, _, spec, _, *settings in gallery.GALLERY:
        if settings:
            continue
        num_steps = load_config_file(ROOT / "configs" / config).train.num_steps
        found, _ = gallery.reports(spec)
        steps = {report["source"]["step"] for report in found}
        assert steps == {num_steps}, f"{model}: trained {steps} steps, configs/{config} says {num_steps}"


def test_the_models_table_names_every_config_file_and_model():
    from jaxgen.models import REGISTRY

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Models") : readme.index("### Gallery")]
    for path in sorted((ROOT / "configs").glob("*.py")):
        assert f"`configs/{path.name}`" in table, (
            f"configs/{path.name} is missing from the README's models table"
        )
    for name in REGISTRY:
        assert f"`{name}`" in readme or f"configs/{name}.py" in table, f"model {name!r} is not in the README"


def test_the_readme_shows_the_commands_ci_runs():
    """CI installs and tests exactly as the README says: its commands must stay in the README."""
    readme = (ROOT / "README.md").read_text()
    for line in (ROOT / ".ci" / "run").read_text().splitlines():
        command = line.strip()
        if command.startswith(("pip ", "python -m pytest", "ruff ")):
            assert command in readme, f"{command!r} (in .ci/run) is not in the README"
    for heading in ("## Install", "## Train, sample, test", "## Models", "## Data", "## Development"):
        assert f"\n{heading}\n" in readme, heading
