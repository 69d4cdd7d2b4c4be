"""The expected resources per stack, kept as small JSON files in tests/infra/inventory/.

Regenerate after an intended change, then review the diff:

    .venv/bin/python -m tests.infra.inventory            # every variant
    .venv/bin/python -m tests.infra.inventory dev        # one

A file lists every resource (type, name, parent) with its non-secret inputs, and the non-secret
outputs. Tests compare it with a fresh plan: the same resources, and each recorded input present
with the recorded value (the plan may carry more).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.offline import OfflinePlan, plan_stack
from tests.infra.raw_config import GCP_PROJECT

INVENTORY_DIR = Path(__file__).resolve().parent / "inventory"
# variant -> (stack, config overrides)
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "dev": ("dev", {}),
    "dev-gcp": ("dev", {"gcpProject": GCP_PROJECT}),
    "gke": ("gke", {}),
}


def plan_variant(variant: str) -> OfflinePlan:
    stack, overrides = VARIANTS[variant]
    return plan_stack(stack, config=overrides)


def inventory_of(plan: OfflinePlan) -> dict:
    return {
        "resources": [
            {"type": resource.type, "name": resource.name, "parent": resource.parent,
             "inputs": {key: value for key, value in sorted(resource.inputs.items())
                        if key not in resource.secret_inputs}}
            for resource in plan.resources
        ],
        "outputs": {key: value for key, value in sorted(plan.outputs.items())
                    if key not in plan.secret_outputs},
    }


def inventory_path(variant: str) -> Path:
    return INVENTORY_DIR / f"{variant}.json"


def load_inventory(variant: str) -> dict:
    return json.loads(inventory_path(variant).read_text())


def is_subset(expected: Any, actual: Any) -> bool:
    """Maps: every expected key present with a matching value; everything else: equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items())
    return expected == actual


def main(argv: list[str]) -> int:
    variants = argv or list(VARIANTS)
    unknown = [variant for variant in variants if variant not in VARIANTS]
    if unknown:
        print(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    INVENTORY_DIR.mkdir(exist_ok=True)
    # As in the suite (tests/conftest.py): the inventory records no Docker engine of this machine.
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="docker-config-") as empty:
        os.environ["DOCKER_CONFIG"] = empty
        for variant in variants:
            path = inventory_path(variant)
            path.write_text(json.dumps(inventory_of(plan_variant(variant)), indent=2) + "\n")
            print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
