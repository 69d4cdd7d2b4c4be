"""requirements.lock (what CI installs) agrees with pyproject.toml, and the installed packages satisfy
pyproject's floors — floors the code needs:

- pulumi-docker >= 5.2: `ContainerUploadArgs(owner=…)` (infra/docker_target.py) first ships in the 5.2.0
  wheel (absent from 5.1.0's pulumi_docker/_inputs.py); `permissions` since v4.7.0.
- pulumi-gcp >= 9.35: `compute.Disk(deletion_policy=…)` since v9.24.0 (sdk/python/pulumi_gcp/compute/disk.py),
  and v9.35.0 (commit 14da5bc, terraform-provider-google-beta 7.45.0) carries "fixed an issue where
  updating google_bigquery_dataset overwrote fine-grained IAM permissions" (its CHANGELOG).
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
REGENERATE = ("uv pip compile pyproject.toml --extra test --universal --python-version 3.11 "
              "-o requirements.lock")
# .ci/run sets it after installing requirements.lock: then every locked package must be installed as pinned.
LOCKED_ENV = "KESTRA_STACK_INSTALLED_FROM_LOCK"
# pulumi-gcp 10.2: servicenetworking.Connection deletion_policy REMOVE_PEERING (the gke target; read in the
# 10.2.0 wheel, pulumi_gcp/servicenetworking/connection.py).
FLOORS = {"pulumi-docker": "5.2", "pulumi-gcp": "10.2"}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def locked() -> dict[str, tuple[Version, str]]:
    """canonical name -> (pinned version, environment marker or '')."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*(?:;\s*(.*))?$", line)
        if match:
            pins[canonicalize_name(match.group(1))] = (Version(match.group(2)), match.group(3) or "")
    return pins


def applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**default_environment(), "extra": "test"})


def test_the_lock_pins_every_declared_dependency_within_pyprojects_range():
    pins = locked()
    assert len(pins) > len(declared())
    wrong = {str(req): str(pins.get(canonicalize_name(req.name), ("not locked",))[0])
             for req in declared()
             if canonicalize_name(req.name) not in pins
             or not req.specifier.contains(pins[canonicalize_name(req.name)][0], prereleases=True)}
    assert wrong == {}, f"requirements.lock is stale; regenerate it: {REGENERATE}"


def test_the_lock_says_how_it_was_made():
    assert REGENERATE in LOCK.read_text()


@pytest.mark.parametrize("name, floor", FLOORS.items())
def test_pyproject_floors_are_what_the_code_needs(name, floor):
    (requirement,) = [req for req in declared() if canonicalize_name(req.name) == name]
    lowest_allowed = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    assert lowest_allowed == [floor]


def test_installed_packages_satisfy_pyproject():
    wrong = {}
    for requirement in filter(applies, declared()):
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed == "not installed" or not requirement.specifier.contains(installed, prereleases=True):
            wrong[str(requirement)] = installed
    assert wrong == {}


@pytest.mark.skipif(not os.environ.get(LOCKED_ENV), reason=f"{LOCKED_ENV} unset: not installed by .ci/run")
def test_installed_packages_are_exactly_the_locked_ones():
    environment = default_environment()
    wrong = {}
    for name, (version, marker) in locked().items():
        if marker and not Requirement(f"{name}; {marker}").marker.evaluate(environment):
            continue
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (str(version), str(installed))
    assert wrong == {}
