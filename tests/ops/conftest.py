"""Fixtures for the ops tests: the real CLI run in-process, small flow directories and outputs files
built in tmp_path, and a record of every line the CLI printed (scanned for secrets)."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kestra_ops.cli import cli

USERNAME = "ops@example.com"
PASSWORD = "Emul4torPassw0rd"
NAMESPACE = "zoomcamp"
SERVICE_ACCOUNT_KEY = {
    "type": "service_account",
    "project_id": "kv-secret-project-4711",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvSecretKeyMaterialXq9\n-----END PRIVATE KEY-----\n",
    "client_email": "kestra-sa@kv-secret-project-4711.iam.gserviceaccount.com",
}
KV = {
    "GCP_PROJECT_ID": "kv-secret-project-4711",
    "GCP_LOCATION": "europe-west3-secretloc",
    "GCP_BUCKET_NAME": "kv-secret-bucket-0815",
    "GCP_CREDS": SERVICE_ACCOUNT_KEY,
}
BACKFILL = {
    "flow_id": "taxi_scheduled",
    "trigger_id": "green_schedule",
    "start": "2019-01-01T00:00:00Z",
    "end": "2019-04-01T00:00:00Z",
    "inputs": {"taxi": "green"},
    "labels": {"backfill": "green-2019"},
}
SECRETS = [PASSWORD, "MIIEvSecretKeyMaterialXq9", "kv-secret-project-4711", "europe-west3-secretloc", "kv-secret-bucket-0815"]
# Fast retries: tests inject faults and must not wait seconds for a backoff.
FAST_RETRIES = ["--retries", "12", "--retry-backoff", "0.001", "--retry-max-delay", "0.01"]

CAPTURED_OUTPUT: list[str] = []

SCHEDULED_FLOW = """\
id: taxi_scheduled
namespace: zoomcamp
description: loads one month of taxi data
inputs:
  - id: taxi
    type: SELECT
    values: [green, yellow]
    defaults: green
tasks:
  - id: extract
    type: io.kestra.plugin.core.log.Log
    message: "{{ kv('GCP_PROJECT_ID') }} {{ inputs.taxi }} {{ trigger.date }}"
  - id: load
    type: io.kestra.plugin.core.log.Log
    message: "{{ kv('TAXI_DATA_BASE_URL', errorOnMissing=false) ?? 'https://example.org' }}"
triggers:
  - id: green_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 1 * *"
    timezone: America/New_York
    inputs:
      taxi: green
  - id: yellow_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 10 1 * *"
    timezone: America/New_York
    inputs:
      taxi: yellow
"""

HELLO_FLOW = """\
id: hello
namespace: zoomcamp
tasks:
  - id: parallel
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: say
        type: io.kestra.plugin.core.log.Log
        message: hello
      - id: shout
        type: io.kestra.plugin.core.log.Log
        message: HELLO
"""

# A SQL comment with `---` inside: Kestra's bulk endpoint would cut this flow in two.
DASHES_FLOW = """\
id: with_dashes
namespace: zoomcamp
tasks:
  - id: query
    type: io.kestra.plugin.core.log.Log
    message: "SELECT 1 --- a comment that holds the bulk separator"
"""


@dataclass(frozen=True)
class OpsRun:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def invoke_ops(*args: str | Path, env: dict[str, str] | None = None) -> OpsRun:
    """Run the real CLI in-process; nothing from the machine's environment leaks in."""
    clean_env = {name: None for name in ("KESTRA_URL", "KESTRA_USERNAME", "KESTRA_PASSWORD", "OPS_STACK", "OPS_OUTPUTS")}
    result = CliRunner().invoke(cli, [str(arg) for arg in args], env={**clean_env, **(env or {})}, auto_envvar_prefix="OPS")
    run = OpsRun(result.exit_code, result.stdout, result.stderr, result.exception)
    CAPTURED_OUTPUT.append(run.output)
    if run.exception is not None and not isinstance(run.exception, SystemExit):
        raise run.exception
    return run


@pytest.fixture
def run_ops():
    return invoke_ops


def write_flows(root: Path, flows: dict[str, str]) -> Path:
    """flows: relative path -> content; returns the directory."""
    for relative, content in flows.items():
        file = root / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def write_outputs(path: Path, url: str, **overrides: Any) -> Path:
    outputs = {
        "kestra_url": url,
        "kestra_username": USERNAME,
        "kestra_password": PASSWORD,
        "kestra_namespace": NAMESPACE,
        "kestra_kv": KV,
        "kestra_backfills": [BACKFILL],
        "pgadmin_url": "http://127.0.0.1:5050",
    }
    outputs.update(overrides)
    path.write_text(json.dumps({k: v for k, v in outputs.items() if v is not None}), encoding="utf-8")
    return path


@pytest.fixture
def project_flows(tmp_path: Path) -> Path:
    """A small flows directory: a scheduled flow, a nested one, one with `---`, and namespace files."""
    return write_flows(
        tmp_path / "flows",
        {
            "zoomcamp/taxi_scheduled.yaml": SCHEDULED_FLOW,
            "zoomcamp/hello.yaml": HELLO_FLOW,
            "zoomcamp/with_dashes.yaml": DASHES_FLOW,
            "zoomcamp/files/sql/green_create.sql": "CREATE TABLE IF NOT EXISTS green (id int);\n",
            "zoomcamp/files/README.txt": "namespace files for zoomcamp\n",
        },
    )


@pytest.fixture(params=["1.1.0", "0.20.7"], ids=["kestra-1.x", "kestra-0.20"])
def emulator(request):
    """A started emulator of each supported Kestra line; fails the test on any spec violation."""
    from tests.kestra_emulator.fixtures import assert_no_spec_violations
    from tests.kestra_emulator.server import KestraEmulator

    with KestraEmulator(version=request.param) as started:
        yield started
    assert_no_spec_violations(started)


@pytest.fixture
def outputs_for(tmp_path: Path):
    """outputs_for(emulator, **overrides) -> an outputs JSON file pointing at that emulator."""
    counter = iter(range(1000))

    def make(emulator, **overrides: Any) -> Path:
        return write_outputs(tmp_path / f"outputs-{next(counter)}.json", emulator.url, **overrides)

    return make
