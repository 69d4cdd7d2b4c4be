"""The value paths Kestra's Helm chart 1.0.20 reads (tests/data/kestra-chart-1.0.20-values.txt), and a
check of a values tree against them: Helm ignores a misspelt key, this does not."""

from __future__ import annotations

import re
from pathlib import Path

ACCEPTED_PATHS = Path(__file__).resolve().parents[1] / "data" / "kestra-chart-1.0.20-values.txt"


def _pattern(line: str) -> re.Pattern[str]:
    free_form = line.endswith(".**")
    parts = (line[:-3] if free_form else line).split(".")
    regex = []
    for part in parts:
        if part == "*":
            regex.append(r"[^.]+")
        elif part == "[]":
            regex.append(r"\[\d+\]")
        elif part.startswith("("):
            regex.append(part)  # an alternation of key names
        else:
            regex.append(re.escape(part))
    tail = r"(\..+)?" if free_form else ""
    return re.compile(r"\.".join(regex) + tail)


def accepted_patterns() -> list[re.Pattern[str]]:
    lines = ACCEPTED_PATHS.read_text().splitlines()
    return [_pattern(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


def leaf_paths(tree: object, prefix: str = "") -> list[str]:
    """Every leaf's path: keys joined by '.', list items as [i]; an empty map or list is a leaf."""
    if isinstance(tree, dict) and tree:
        return [path for key, value in tree.items()
                for path in leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(tree, list) and tree:
        return [path for index, value in enumerate(tree) for path in leaf_paths(value, f"{prefix}.[{index}]")]
    return [prefix]


def unknown_paths(values: dict) -> list[str]:
    patterns = accepted_patterns()
    return [path for path in leaf_paths(values) if not any(p.fullmatch(path) for p in patterns)]
