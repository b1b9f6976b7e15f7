"""Print every README table from the result files, check the README against them, or rewrite it.

Each generated table sits between `<!-- NAME: python experiments/SCRIPT.py ARGS -->` and `<!-- /NAME -->`;
the marker's command prints the table from experiments/results. Tables are never typed by hand: a test
runs `--check`, which fails when a table and its result files disagree.

    python experiments/readme_tables.py --check    # exit 1 and a diff when a table is stale
    python experiments/readme_tables.py --write    # regenerate every table in README.md
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(
    r"^<!-- (?P<name>[a-z0-9-]+): (?P<command>python experiments/[a-z_]+\.py[^>]*?) -->\n"
    r"(?P<table>.*?)"
    r"^<!-- /(?P=name) -->$",
    re.M | re.S,
)


def tables(readme: str) -> list[re.Match]:
    """Every generated table of the README, in order."""
    return list(MARKER.finditer(readme))


def generate(command: str) -> str:
    """The table the marker's command prints (run from the repository root, same interpreter)."""
    argv = shlex.split(command)
    done = subprocess.run(
        [sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode:
        raise RuntimeError(f"{command} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip() + "\n"


def refreshed(readme: str) -> tuple[str, list[str]]:
    """(the README with every table regenerated, a diff for each table that changed)."""
    out, diffs, last = [], [], 0
    for match in tables(readme):
        new = generate(match["command"])
        if new != match["table"]:
            old_lines, new_lines = match["table"].splitlines(), new.splitlines()
            label = f"README {match['name']}"
            diff = difflib.unified_diff(old_lines, new_lines, label, "results", lineterm="")
            diffs.append("\n".join(diff))
        out.append(readme[last : match.start("table")] + new)
        last = match.end("table")
    out.append(readme[last:])
    return "".join(out), diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", default=str(ROOT / "README.md"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="exit 1 when a table differs from its results")
    group.add_argument("--write", action="store_true", help="rewrite the tables in place")
    args = p.parse_args(argv)
    path = Path(args.readme)
    readme = path.read_text()
    found = tables(readme)
    if not found:
        print(f"no generated tables in {path}", file=sys.stderr)
        return 1
    new, diffs = refreshed(readme)
    if args.write:
        path.write_text(new)
        print(f"{len(found)} tables, {len(diffs)} rewritten in {path}")
        return 0
    for diff in diffs:
        print(diff)
    print(f"{len(found)} tables checked, {len(diffs)} differ from experiments/results", file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
