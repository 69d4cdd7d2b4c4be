"""Backfill progress: `ops status` counts a backfill's executions by state and names the failed ones;
`seed-backfills --wait` / `seed --wait` follow the backfills to their end and exit 1 if one did not succeed."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from kestra_ops.backfill_progress import BackfillProgress
from kestra_ops.outputs import BackfillSpec
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.runs import Outcome
from tests.kestra_emulator.server import KestraEmulator
from tests.ops.conftest import FAST_RETRIES, SCHEDULED_FLOW

VERSIONS = pytest.mark.parametrize("version", ["1.1.0", "0.20.7"])
FAST_POLL = ("--poll-interval", "0")


@pytest.fixture
def project_flows(project_flows: Path) -> Path:
    """The project's flows, with four more tasks in taxi_scheduled: its runs take several polls to end."""
    more = "".join(f"  - id: step{n}\n    type: io.kestra.plugin.core.log.Log\n    message: step {n}\n" for n in range(4))
    longer = SCHEDULED_FLOW.replace("triggers:\n", more + "triggers:\n")
    assert longer != SCHEDULED_FLOW
    (project_flows / "zoomcamp" / "taxi_scheduled.yaml").write_text(longer, encoding="utf-8")
    return project_flows


def fail_february(execution: dict) -> Outcome:
    """The backfill's February run fails at its load task, the others succeed."""
    date = execution["trigger"]["variables"]["date"]
    return Outcome("FAILED", task="load", errors=("COPY failed",)) if date.startswith("2019-02") else Outcome()


def _failed_ids(emulator: KestraEmulator) -> list[str]:
    return [run["id"] for run in emulator.executions if run["state"] == "FAILED"]


@VERSIONS
def test_status_counts_a_running_backfills_executions_by_state_and_names_the_failed(
        version, project_flows: Path, outputs_for, run_ops) -> None:
    with KestraEmulator(version=version, backfill_mode="manual", execution_mode="manual") as emulator:
        emulator.set_outcome("taxi_scheduled", fail_february)
        outputs = outputs_for(emulator)
        assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
        emulator.run_scheduler(limit=2)  # January and February played, March to go
        emulator.advance_executions(10)
        status = run_ops("--outputs", outputs, "status", project_flows)
        document = run_ops("--outputs", outputs, "--json", "status", project_flows).json()
    assert_no_spec_violations(emulator)
    [failed] = _failed_ids(emulator)
    assert "running  at 2019-02-01T14:00:01Z  2/3 done: 1 SUCCESS, 1 FAILED, 1 to go" in status.stdout
    assert f"taxi_scheduled/green_schedule did not succeed: {failed}" in status.stdout
    [row] = document["backfills"]
    assert row["executions"] == {"total": 3, "done": 2, "states": {"SUCCESS": 1, "FAILED": 1}, "failed": [failed],
                                 "running": True}


@VERSIONS
def test_seed_backfills_wait_follows_the_backfill_to_its_end(version, project_flows: Path, outputs_for, run_ops) -> None:
    with KestraEmulator(version=version) as emulator:
        outputs = outputs_for(emulator)
        assert run_ops("--outputs", outputs, "seed-flows", project_flows).exit_code == 0
        result = run_ops(*FAST_RETRIES, "--outputs", outputs, "seed-backfills", "--wait", *FAST_POLL)
        assert result.exit_code == 0, result.output
        assert [run["state"] for run in emulator.executions] == ["SUCCESS"] * 3
        assert "taxi_scheduled/green_schedule 0/3 done, 3 to go" in result.stdout
        assert ("backfill  taxi_scheduled/green_schedule 2019-01-01T00:00:00Z .. 2019-04-01T00:00:00Z: "
                "3/3 done: 3 SUCCESS, 0 to go") in result.stdout
        status = run_ops("--outputs", outputs, "status", project_flows)
        assert "finished  3 executions  3/3 done: 3 SUCCESS, 0 to go" in status.stdout
    assert_no_spec_violations(emulator)


@VERSIONS
def test_seed_wait_exits_1_naming_the_executions_that_failed(version, project_flows: Path, outputs_for, run_ops) -> None:
    with KestraEmulator(version=version) as emulator:
        emulator.set_outcome("taxi_scheduled", fail_february)
        result = run_ops(*FAST_RETRIES, "--outputs", outputs_for(emulator), "--json", "seed", project_flows, "--wait", *FAST_POLL)
    assert_no_spec_violations(emulator)
    [failed] = _failed_ids(emulator)
    assert result.exit_code == 1
    assert f"Error: backfill taxi_scheduled/green_schedule: 1 of 3 executions did not succeed ({failed})" in result.stderr
    [entry] = result.json()["entries"]
    assert entry["executions"]["states"] == {"SUCCESS": 2, "FAILED": 1}


def test_wait_gives_up_at_its_timeout_and_says_how_far_the_backfill_got(project_flows: Path, outputs_for, run_ops) -> None:
    with KestraEmulator() as emulator:
        emulator.set_outcome("taxi_scheduled", Outcome("RUNNING", task="load"))
        result = run_ops(*FAST_RETRIES, "--outputs", outputs_for(emulator), "seed", project_flows, "--wait",
                         "--wait-timeout", "0.2", "--poll-interval", "0.02")
    assert result.exit_code == 1
    assert ("backfills still running after 0.2 s (taxi_scheduled/green_schedule 0/3 done, 3 to go); "
            "they go on on the server") in result.stderr


def test_each_poll_asks_two_requests_per_unfinished_backfill(project_flows: Path, outputs_for, run_ops) -> None:
    with KestraEmulator() as emulator:
        outputs = outputs_for(emulator)
        assert run_ops("--outputs", outputs, "seed-flows", project_flows).exit_code == 0
        start = len(emulator.requests)
        assert run_ops("--outputs", outputs, "seed-backfills", "--wait", *FAST_POLL).exit_code == 0
        paths = [r.path.removeprefix("/api/v1/main") for r in emulator.requests[start:]]
    flow_read = paths.index("/flows/zoomcamp/taxi_scheduled", paths.index("/triggers"))  # its cron, read once
    polls = list(zip(paths[flow_read + 1::2], paths[flow_read + 2::2]))
    assert len(polls) >= 2 and len(paths) == flow_read + 1 + 2 * len(polls)
    assert set(polls) == {("/triggers/zoomcamp/taxi_scheduled", "/executions/search")}


def test_a_backfill_not_yet_seen_on_its_trigger_is_not_finished() -> None:
    spec = BackfillSpec("taxi", "green_schedule", datetime(2019, 1, 1, tzinfo=timezone.utc),
                        datetime(2019, 4, 1, tzinfo=timezone.utc))
    assert not BackfillProgress(spec, expected=3).finished  # saved through Kestra's trigger queue: not visible yet
    assert not BackfillProgress(spec, expected=3, states={"SUCCESS": 2, "RUNNING": 1}).finished
    assert BackfillProgress(spec, expected=3, states={"SUCCESS": 2, "FAILED": 1}).finished
    assert not BackfillProgress(spec, expected=3, states={"SUCCESS": 3}, running=True).finished


@pytest.mark.parametrize(("version", "seed"), [("1.1.0", 1), ("0.20.7", 5)])
def test_seed_wait_under_30_percent_faults_follows_one_backfill_to_its_end(version, seed, project_flows: Path,
                                                                          outputs_for, run_ops) -> None:
    with KestraEmulator(version=version, fault_rate=0.3, seed=seed) as emulator:
        result = run_ops(*FAST_RETRIES, "--outputs", outputs_for(emulator), "seed", project_flows, "--wait", *FAST_POLL)
        assert result.exit_code == 0, result.output
        assert sorted(run["scheduleDate"][:10] for run in emulator.executions) == ["2019-01-01", "2019-02-01", "2019-03-01"]
        assert {run["state"] for run in emulator.executions} == {"SUCCESS"}
        assert {r.fault for r in emulator.requests if r.fault} == {"503", "lost"}
    assert_no_spec_violations(emulator)


def test_a_window_ending_on_a_schedule_date_counts_that_date(project_flows: Path, outputs_for, run_ops) -> None:
    from tests.ops.conftest import BACKFILL

    ending_on_march = {**BACKFILL, "end": "2019-03-01T09:00:00-05:00"}  # the green schedule's March date
    with KestraEmulator(backfill_mode="manual", execution_mode="manual") as emulator:
        outputs = outputs_for(emulator, kestra_backfills=[ending_on_march])
        assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
        emulator.run_scheduler(limit=2)
        emulator.advance_executions(20)
        status = run_ops("--outputs", outputs, "status", project_flows)
    assert "2/3 done: 2 SUCCESS, 1 to go" in status.stdout


def test_wait_does_not_follow_a_backfill_blocked_by_another_on_its_trigger(project_flows: Path, outputs_for,
                                                                           run_ops) -> None:
    from tests.ops.conftest import BACKFILL

    with KestraEmulator(backfill_mode="manual") as emulator:
        assert run_ops("--outputs", outputs_for(emulator), "seed", project_flows).exit_code == 0  # plays no date
        later = {**BACKFILL, "start": "2020-01-01T00:00:00Z", "end": "2020-04-01T00:00:00Z"}
        result = run_ops("--outputs", outputs_for(emulator, kestra_backfills=[later]), "seed-backfills", "--wait",
                         "--wait-timeout", "1", *FAST_POLL)
    assert result.exit_code == 0, result.output
    assert "already blocked (another backfill" in result.stdout and "to go" not in result.stdout
