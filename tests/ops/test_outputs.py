"""Stack outputs: `--stack` through the pulumi CLI (a stand-in script on PATH), `--outputs FILE`, and the
override order flags > environment > outputs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from kestra_ops.errors import OutputsError
from kestra_ops.outputs import load_outputs, parse_outputs, resolve_connection
from tests.ops.conftest import BACKFILL, KV, PASSWORD, write_outputs


def fake_pulumi(bin_dir: Path, outputs: dict, exit_code: int = 0) -> None:
    """A `pulumi` executable that records its arguments and prints the outputs, like the real CLI."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{bin_dir}/args"\n'
        + (f"cat <<'JSON'\n{json.dumps(outputs)}\nJSON\n" if exit_code == 0 else 'echo "error: no stack named dev found" >&2\n')
        + f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_stack_runs_pulumi_stack_output_with_secrets(tmp_path: Path, monkeypatch) -> None:
    fake_pulumi(tmp_path / "bin", {"kestra_url": "http://127.0.0.1:8080", "kestra_kv": KV, "kestra_backfills": [BACKFILL]})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    outputs = load_outputs("dev", None)
    assert (tmp_path / "bin" / "args").read_text().split() == ["stack", "output", "--json", "--show-secrets", "--stack", "dev"]
    assert outputs.kestra_url == "http://127.0.0.1:8080" and outputs.kestra_kv == KV
    assert outputs.kestra_backfills[0].trigger_id == "green_schedule"


def test_a_failing_pulumi_reports_its_last_error_line(tmp_path: Path, monkeypatch, run_ops) -> None:
    fake_pulumi(tmp_path / "bin", {}, exit_code=255)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = run_ops("--stack", "dev", "seed-kv")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: `pulumi stack output --stack dev` failed (exit 255): error: no stack named dev found"


def test_missing_pulumi_cli_says_how_to_proceed(tmp_path: Path, monkeypatch, run_ops) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing named pulumi here
    result = run_ops("--stack", "dev", "status")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert "--stack needs the pulumi CLI, which is not on PATH" in result.stderr and "--outputs FILE" in result.stderr


def test_outputs_file_is_parsed_against_the_contract(tmp_path: Path) -> None:
    outputs = load_outputs(None, write_outputs(tmp_path / "o.json", "http://127.0.0.1:8080"))
    assert outputs.kestra_namespace == "zoomcamp" and outputs.kestra_password == PASSWORD
    backfill = outputs.kestra_backfills[0]
    assert (backfill.flow_id, backfill.start.isoformat(), backfill.end.isoformat()) == (
        "taxi_scheduled", "2019-01-01T00:00:00+00:00", "2019-04-01T00:00:00+00:00")
    assert backfill.labels == (("backfill", "green-2019"),) and backfill.inputs == {"taxi": "green"}
    assert PASSWORD in outputs.secret_values() and "MIIEvSecretKeyMaterialXq9" in "".join(outputs.secret_values())


def test_unknown_backfill_field_is_named() -> None:
    with pytest.raises(OutputsError, match=r"^src: kestra_backfills\[0\]\.window: unknown field"):
        parse_outputs({"kestra_backfills": [{**BACKFILL, "window": "2019"}]}, "src")


def test_connection_prefers_flags_then_environment_then_outputs() -> None:
    outputs = parse_outputs({"kestra_url": "http://from-outputs:8080", "kestra_username": "a@b.c", "kestra_password": "OutPassw0rd"}, "o")
    assert resolve_connection(outputs, None, None, None).url == "http://from-outputs:8080"
    chosen = resolve_connection(outputs, "http://from-flag:1/", "x@y.z", "FlagPassw0rd")
    assert (chosen.url, chosen.username, chosen.password) == ("http://from-flag:1", "x@y.z", "FlagPassw0rd")
    assert "FlagPassw0rd" not in repr(chosen)


def test_no_url_anywhere_is_explained() -> None:
    with pytest.raises(OutputsError, match="no Kestra URL: pass --url, set KESTRA_URL"):
        resolve_connection(None, None, None, None)


def test_username_without_password_is_refused() -> None:
    with pytest.raises(OutputsError, match="missing the password"):
        resolve_connection(None, "http://k:8080", "ops@example.com", None)
