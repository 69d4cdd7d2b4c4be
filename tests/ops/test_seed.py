"""`ops seed` and its steps against the Kestra emulator (1.x and 0.20): from empty, idempotent, dry-run."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from tests.ops.conftest import BACKFILL, DASHES_FLOW, HELLO_FLOW, KV, NAMESPACE, write_flows


def api_writes(emulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if r.method != "GET" and not r.path.endswith("/flows/validate")]


def test_seed_from_empty_gives_flows_files_kv_and_backfills(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    result = run_ops("--outputs", outputs_for(emulator), "seed", project_flows)
    assert result.exit_code == 0, result.output

    assert sorted(emulator.flows) == [(NAMESPACE, "hello"), (NAMESPACE, "taxi_scheduled"), (NAMESPACE, "with_dashes")]
    assert all(len(revisions) == 1 for revisions in emulator.flows.values())
    assert emulator.flows[(NAMESPACE, "with_dashes")][0].strip() == DASHES_FLOW.strip()  # not cut at its `---`
    assert emulator.namespace_files == {
        (NAMESPACE, "/sql/green_create.sql"): b"CREATE TABLE IF NOT EXISTS green (id int);\n",
        (NAMESPACE, "/README.txt"): b"namespace files for zoomcamp\n",
    }
    assert emulator.kv == {
        (NAMESPACE, "GCP_PROJECT_ID"): ("STRING", KV["GCP_PROJECT_ID"]),
        (NAMESPACE, "GCP_LOCATION"): ("STRING", KV["GCP_LOCATION"]),
        (NAMESPACE, "GCP_BUCKET_NAME"): ("STRING", KV["GCP_BUCKET_NAME"]),
        (NAMESPACE, "GCP_CREDS"): ("JSON", KV["GCP_CREDS"]),
    }
    # The backfill replayed Jan, Feb and Mar 2019 at 09:00 New York time, with our inputs and labels.
    runs = sorted(emulator.executions, key=lambda e: e["scheduleDate"])
    assert [run["scheduleDate"][:10] for run in runs] == ["2019-01-01", "2019-02-01", "2019-03-01"]
    assert all(run["inputs"] == {"taxi": "green"} and run["labels"]["backfill"] == "green-2019" for run in runs)
    assert len({run["labels"]["ops-backfill"] for run in runs}) == 1
    assert result.stdout.splitlines()[-1].startswith(
        "flows: 3 create, 0 update, 0 delete, 0 unchanged; namespace files: 2 create, 0 update, 0 delete, 0 unchanged; "
        "kv: 4 create, 0 update, 0 unchanged; backfills: 1 create, 0 skip;"
    )


def test_flows_go_in_one_bulk_request_per_namespace_and_dashes_alone(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    assert run_ops("--outputs", outputs_for(emulator), "seed-flows", project_flows).exit_code == 0
    prefix = "/api/v1/main" if emulator.version.startswith("1.") else "/api/v1"
    flow_writes = [w for w in api_writes(emulator) if "/flows" in w[1]]
    assert sorted(flow_writes) == [("POST", f"{prefix}/flows"), ("POST", f"{prefix}/flows/{NAMESPACE}")]
    bulk = next(r for r in emulator.requests if r.path == f"{prefix}/flows/{NAMESPACE}")
    assert parse_qs(bulk.query)["delete"] == ["false"]


def test_second_seed_writes_nothing(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
    writes, executions = emulator.write_count, len(emulator.executions)
    again = run_ops("--outputs", outputs, "seed", project_flows)
    assert again.exit_code == 0, again.output
    assert emulator.write_count == writes and len(emulator.executions) == executions
    assert "; 0 writes, " in again.stdout.splitlines()[-1]
    assert "already finished (3 executions)" in again.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    result = run_ops("--outputs", outputs_for(emulator), "seed", project_flows, "--dry-run")
    assert result.exit_code == 0, result.output
    assert emulator.write_count == 0 and api_writes(emulator) == []
    lines = result.stdout.splitlines()
    assert any(line.startswith("create    flow zoomcamp/hello") for line in lines)
    assert any(line.startswith("create    file zoomcamp/sql/green_create.sql") for line in lines)
    assert "create    kv GCP_CREDS (JSON)" in lines
    assert any(line.startswith("create    backfill taxi_scheduled/green_schedule") for line in lines)
    assert re.search(r"; 0 writes, \d+ requests, 0 retries \(dry run: nothing written\)$", lines[-1]), lines[-1]


def test_only_changed_flows_and_files_are_written(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    assert run_ops("--outputs", outputs, "seed-flows", project_flows).exit_code == 0
    (project_flows / "zoomcamp" / "hello.yaml").write_text(HELLO_FLOW.replace("message: hello", "message: bonjour"))
    (project_flows / "zoomcamp" / "files" / "README.txt").write_text("changed\n")
    plan = run_ops("--outputs", outputs, "seed-flows", project_flows, "--dry-run")
    assert [line.split()[:3] for line in plan.stdout.splitlines()[:-1] if not line.startswith("unchanged")] == [
        ["update", "file", "zoomcamp/README.txt"], ["update", "flow", "zoomcamp/hello"],
    ]
    before = emulator.write_count
    assert run_ops("--outputs", outputs, "seed-flows", project_flows).exit_code == 0
    assert emulator.write_count == before + 2  # one file upload, one bulk request
    assert {key: len(revisions) for key, revisions in emulator.flows.items()} == {
        (NAMESPACE, "hello"): 2, (NAMESPACE, "taxi_scheduled"): 1, (NAMESPACE, "with_dashes"): 1,
    }
    assert emulator.namespace_files[(NAMESPACE, "/README.txt")] == b"changed\n"


def test_seed_kv_prints_types_never_values_and_skips_unchanged(emulator, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    first = run_ops("--outputs", outputs, "seed-kv")
    assert first.exit_code == 0 and "create    kv GCP_CREDS (JSON)" in first.stdout
    changed = outputs_for(emulator, kestra_kv={**KV, "GCP_LOCATION": "us-central1-changed"})
    before = emulator.write_count
    second = run_ops("--outputs", changed, "seed-kv")
    assert emulator.write_count == before + 1
    assert "update    kv GCP_LOCATION (STRING)" in second.stdout and "unchanged kv GCP_CREDS (JSON)" in second.stdout
    assert emulator.kv[(NAMESPACE, "GCP_LOCATION")] == ("STRING", "us-central1-changed")


def test_backfill_still_running_is_not_created_again(project_flows: Path, outputs_for, run_ops) -> None:
    from tests.kestra_emulator.server import KestraEmulator

    with KestraEmulator(backfill_mode="manual") as emulator:
        outputs = outputs_for(emulator)
        assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
        emulator.run_scheduler(limit=1)  # one month done, two to go
        again = run_ops("--outputs", outputs, "seed-backfills")
        assert again.exit_code == 0
        assert "already running (at 2019-01-01T14:00:01Z)" in again.stdout
        emulator.run_scheduler()
        assert len(emulator.executions) == 3
        status = run_ops("--outputs", outputs, "status", project_flows)
        assert "finished  3 executions" in status.stdout
        assert emulator.spec_violations == []


def test_json_output_is_one_document(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    result = run_ops("--outputs", outputs_for(emulator), "--json", "seed", project_flows)
    document = result.json()
    assert document["flows"]["create"] == 3 and document["kv"]["create"] == 4 and document["backfills"]["create"] == 1
    assert document["writes"] == emulator.write_count
    assert document["server"]["version"] == emulator.version


def test_status_shows_revisions_sync_state_kv_types_and_backfills(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
    (project_flows / "zoomcamp" / "hello.yaml").write_text(HELLO_FLOW.replace("HELLO", "HI"))
    document = run_ops("--outputs", outputs, "--json", "status", project_flows).json()
    assert {row["id"]: (row["revision"], row["state"]) for row in document["flows"]} == {
        "hello": (1, "differs"), "taxi_scheduled": (1, "in sync"), "with_dashes": (1, "in sync"),
    }
    assert {row["key"]: (row["type"], row["state"]) for row in document["kv"]} == {
        "GCP_BUCKET_NAME": ("STRING", "in sync"), "GCP_CREDS": ("JSON", "in sync"),
        "GCP_LOCATION": ("STRING", "in sync"), "GCP_PROJECT_ID": ("STRING", "in sync"),
    }
    assert [(row["window"], row["state"]) for row in document["backfills"]] == [
        (f"{BACKFILL['start']} .. {BACKFILL['end']}", "finished")
    ]


def test_wait_reports_the_version_when_kestra_is_up(emulator, outputs_for, run_ops) -> None:
    result = run_ops("--outputs", outputs_for(emulator), "wait", "--timeout", "5")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"Kestra {emulator.version} at {emulator.url} is up; credentials accepted"


def test_flags_and_environment_override_the_outputs(emulator, tmp_path: Path, outputs_for, run_ops) -> None:
    from tests.ops.conftest import PASSWORD

    broken = outputs_for(emulator, kestra_url="http://127.0.0.1:9", kestra_password="wrong-Passw0rd")
    by_flag = run_ops("--outputs", broken, "--url", emulator.url, "--password", PASSWORD, "wait", "--timeout", "2")
    assert by_flag.exit_code == 0, by_flag.output
    by_env = run_ops("--outputs", broken, "wait", "--timeout", "2", env={"KESTRA_URL": emulator.url, "KESTRA_PASSWORD": PASSWORD})
    assert by_env.exit_code == 0, by_env.output
    flag_beats_env = run_ops(
        "--outputs", broken, "--password", PASSWORD, "wait", "--timeout", "2",
        env={"KESTRA_URL": emulator.url, "KESTRA_PASSWORD": "wrong-Passw0rd"},
    )
    assert flag_beats_env.exit_code == 0, flag_beats_env.output


def test_real_flows_directory_dry_run(kestra_emulator, outputs_for, run_ops) -> None:
    flows = Path(__file__).resolve().parents[2] / "flows"
    result = run_ops("--outputs", outputs_for(kestra_emulator), "seed-flows", flows, "--dry-run")
    assert result.exit_code == 0, result.output
    assert kestra_emulator.write_count == 0
    assert "(dry run: nothing written)" in result.stdout


def test_options_fall_back_to_ops_environment_variables(kestra_emulator, project_flows: Path, outputs_for, run_ops) -> None:
    env = {"OPS_OUTPUTS": str(outputs_for(kestra_emulator)), "OPS_SEED_FLOWS_DRY_RUN": "1"}
    result = run_ops("seed-flows", project_flows, env=env)
    assert result.exit_code == 0, result.output
    assert "(dry run: nothing written)" in result.stdout and kestra_emulator.write_count == 0


def test_a_flow_declaring_a_revision_is_unchanged_on_a_second_seed(emulator, tmp_path: Path, outputs_for, run_ops) -> None:
    # 0.20 serves sources without their first `revision:` line (FlowWithSource.getSource, v0.20.7); 1.x as sent.
    flows = write_flows(tmp_path / "flows", {"zoomcamp/hello.yaml": HELLO_FLOW.replace("tasks:", "revision: 4\ntasks:", 1)})
    outputs = outputs_for(emulator, kestra_backfills=[])
    assert run_ops("--outputs", outputs, "seed-flows", flows).exit_code == 0
    again = run_ops("--outputs", outputs, "seed-flows", flows)
    assert again.exit_code == 0 and "flows: 0 create, 0 update, 0 delete, 1 unchanged" in again.stdout
    assert "; 0 writes, " in again.stdout
