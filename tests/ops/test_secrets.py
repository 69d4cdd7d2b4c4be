"""No secret (the Kestra password, any KV value) appears in anything the CLI printed during the ops tests.

This file runs after the other CLI tests (pytest collects files in name order) and scans their captured
output too; it also drives the paths most likely to leak by itself, so it proves something when run alone."""

from __future__ import annotations

from pathlib import Path

from kestra_ops.outputs import StackOutputs
from kestra_ops.report import Redactor
from tests.ops.conftest import CAPTURED_OUTPUT, FAST_RETRIES, KV, PASSWORD, SECRETS, USERNAME


def test_no_secret_in_any_captured_cli_output(kestra_emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(kestra_emulator)
    changed_kv = outputs_for(kestra_emulator, kestra_kv={**KV, "GCP_BUCKET_NAME": "kv-secret-bucket-0815-b"})
    runs = [
        run_ops("--outputs", outputs, "seed", project_flows, "--dry-run"),
        run_ops("--outputs", outputs, "seed", project_flows),
        run_ops("--outputs", outputs, "--json", "seed", project_flows),
        run_ops("--outputs", changed_kv, "seed-kv"),
        run_ops("--outputs", outputs, "status", project_flows),
        run_ops("--outputs", outputs, "--json", "status", project_flows),
        run_ops(*FAST_RETRIES, "--outputs", outputs, "--url", "http://127.0.0.1:9", "seed-kv"),
        run_ops("--outputs", outputs, "--password", "Wr0ngSecretPass", "seed-kv"),
        run_ops("--url", kestra_emulator.url, "--username", USERNAME, "--password", PASSWORD, "wait"),
    ]
    assert [run.exit_code for run in runs] == [0, 0, 0, 0, 0, 0, 1, 1, 0]
    assert len(CAPTURED_OUTPUT) >= len(runs)
    leaks = [(secret, output) for output in CAPTURED_OUTPUT for secret in [*SECRETS, "Wr0ngSecretPass"] if secret in output]
    assert leaks == []


def test_redactor_masks_registered_values_longest_first() -> None:
    redact = Redactor()
    redact.add("abcd", "abcdefgh", "EU", None)
    assert redact("x abcdefgh y abcd z EU") == "x *** y *** z EU"


def test_short_kv_values_that_are_names_do_not_garble_the_output(kestra_emulator, project_flows: Path, outputs_for,
                                                                 run_ops) -> None:
    """The dev stack's KV holds GCP_DATASET `zoomcamp` (also the namespace) and TAXI_POSTGRES's user `taxi`;
    masking them would turn every flow line into `***/02_postgres_***`. Long values (keys) stay masked."""
    key_material = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    outputs = outputs_for(kestra_emulator, kestra_kv={
        "GCP_DATASET": "zoomcamp", "TAXI_POSTGRES": {"username": "taxi", "database": "ny_taxi"},
        "GCP_CREDS": {"type": "service_account", "private_key": key_material}})
    run = run_ops("--outputs", outputs, "seed", project_flows)
    assert run.exit_code == 0, run.output
    assert "create    flow zoomcamp/" in run.output and "***" not in run.output
    assert key_material not in run.output
    assert key_material in "".join(StackOutputs(source="test", kestra_kv={"GCP_CREDS": {"private_key": key_material}})
                                   .secret_values())
