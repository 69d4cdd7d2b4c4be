"""`ops run FLOW`: inputs checked before anything is created, one execution even when an answer is lost, and
with --wait its progress, its final state and, when it failed, the failed task and its error lines (masked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.runs import Outcome
from tests.kestra_emulator.server import KestraEmulator
from tests.ops.conftest import FAST_RETRIES, HELLO_FLOW, SERVICE_ACCOUNT_KEY, write_flows

MONTH_FLOW = """\
id: taxi_month
namespace: zoomcamp
inputs:
  - id: taxi
    type: SELECT
    values: [green, yellow]
    defaults: green
  - id: year
    type: INT
  - id: month
    type: STRING
    validator: "^[0-9]{2}$"
    required: false
tasks:
  - id: extract
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.taxi }} {{ inputs.year }}"
  - id: load
    type: io.kestra.plugin.core.log.Log
    message: loaded
"""
NO_WAIT = ("--poll-interval", "0")


@pytest.fixture
def seeded(emulator: KestraEmulator, tmp_path: Path, outputs_for, run_ops):
    """The emulator (1.x and 0.20) with the flows `hello` and `taxi_month`; returns a runner of `ops run`."""
    outputs = outputs_for(emulator)
    flows = write_flows(tmp_path / "run-flows", {"zoomcamp/hello.yaml": HELLO_FLOW, "zoomcamp/taxi_month.yaml": MONTH_FLOW})
    assert run_ops("--outputs", outputs, "seed-flows", flows).exit_code == 0

    def ops_run(*args: str):
        return run_ops(*FAST_RETRIES, "--outputs", outputs, "run", *args)

    return emulator, ops_run


def _posts(emulator: KestraEmulator) -> list:
    return [r for r in emulator.requests if r.method == "POST" and "/executions/" in r.path]


def test_run_creates_one_execution_with_its_inputs_and_follows_it_to_success(seeded) -> None:
    emulator, ops_run = seeded
    result = ops_run("taxi_month", "-i", "year=2019", "-i", "month=01", "--wait", *NO_WAIT)
    assert result.exit_code == 0, result.output
    [execution] = emulator.executions
    assert execution["inputs"] == {"taxi": "green", "year": "2019", "month": "01"}
    assert execution["state"] == "SUCCESS" and "ops-run" in execution["labels"]
    assert f"created execution {execution['id']} of zoomcamp.taxi_month" in result.stdout
    assert "RUNNING: 0/2 task runs done, at extract" in result.stdout
    assert "RUNNING: 1/2 task runs done, at load" in result.stdout
    assert result.stdout.rstrip().endswith(f"execution {execution['id']} SUCCESS (2 task runs)")


def test_each_poll_is_one_request(seeded) -> None:
    emulator, ops_run = seeded
    assert ops_run("hello", "--wait", *NO_WAIT).exit_code == 0
    [execution] = emulator.executions
    after_create = emulator.requests[emulator.requests.index(_posts(emulator)[0]) + 1:]
    assert after_create and all(r.method == "GET" and r.path.endswith(f"/executions/{execution['id']}")
                                for r in after_create)
    # hello: CREATED -> parallel, say, shout, one step per request; the last poll sees SUCCESS
    assert len(after_create) == 4


def test_without_wait_it_prints_the_created_execution_and_returns(seeded) -> None:
    emulator, ops_run = seeded
    result = ops_run("hello", "--json")
    assert result.exit_code == 0, result.output
    document = result.json()
    assert document["state"]["current"] == "CREATED" and document["flowId"] == "hello"
    assert [r.method for r in emulator.requests if "/executions/" in r.path] == ["POST"]


def test_json_prints_the_final_execution_document(seeded) -> None:
    _, ops_run = seeded
    result = ops_run("hello", "--wait", "--json", *NO_WAIT)
    assert result.exit_code == 0
    document = result.json()
    assert document["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in document["taskRunList"]] == ["parallel", "say", "shout"]


def test_a_failed_execution_exits_1_with_its_failed_task_and_masked_error_lines(seeded) -> None:
    emulator, ops_run = seeded
    key_material = SERVICE_ACCOUNT_KEY["private_key"].splitlines()[1]
    emulator.set_outcome("hello", Outcome("FAILED", task="say", errors=(
        "connecting to the bucket", f"invalid key {key_material} for kv-secret-project-4711")))
    result = ops_run("hello", "--wait", *NO_WAIT)
    assert result.exit_code == 1
    [execution] = emulator.executions
    assert f"Error: execution {execution['id']} ended FAILED, failed task: say" in result.stderr
    assert "  say: connecting to the bucket" in result.stderr
    assert "  say: invalid key *** for ***" in result.stderr
    assert key_material not in result.output and "kv-secret-project-4711" not in result.output


@pytest.mark.parametrize(("state", "said"), [("WARNING", "ended WARNING (WARNING counts as a failure), failed task: shout"),
                                             ("KILLED", "ended KILLED, failed task: shout")])
def test_warning_and_killed_are_failures_and_say_which(seeded, state: str, said: str) -> None:
    emulator, ops_run = seeded
    emulator.set_outcome("hello", Outcome(state, errors=("row count below the expected",)))
    result = ops_run("hello", "--wait", *NO_WAIT)
    assert result.exit_code == 1 and said in result.stderr
    assert "shout: row count below the expected" in result.stderr


def test_an_execution_that_does_not_end_in_time_is_a_timeout(seeded) -> None:
    emulator, ops_run = seeded
    emulator.set_outcome("taxi_month", Outcome("RUNNING", task="load"))
    result = ops_run("taxi_month", "-i", "year=2020", "--wait", "--timeout", "0.2", "--poll-interval", "0.02")
    assert result.exit_code == 1
    assert "still RUNNING after 0.2 s (RUNNING: 1/2 task runs done, at load); it goes on running" in result.stderr
    assert [run["state"] for run in emulator.executions] == ["RUNNING"]


@pytest.mark.parametrize(("args", "message"), [
    (("-i", "colour=red", "-i", "year=2019"), "-i colour: flow zoomcamp.taxi_month has no input 'colour' (its inputs: taxi, year, month)"),
    (("-i", "taxi=blue", "-i", "year=2019"), "-i taxi=blue: must be one of green, yellow"),
    (("-i", "year=last"), "-i year=last: must be an integer"),
    (("-i", "year=2_019"), "-i year=2_019: must be an integer"),  # Python's int() takes it, Integer.valueOf not
    (("-i", "year=2019", "-i", "month=1"), "-i month=1: must match the pattern `^[0-9]{2}$`"),
    ((), "input 'year' of flow zoomcamp.taxi_month is required and has no default: pass -i year=VALUE"),
])
def test_inputs_are_checked_against_the_flow_before_anything_is_created(seeded, args, message) -> None:
    emulator, ops_run = seeded
    result = ops_run("taxi_month", *args, "--wait")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message} (no execution created)\n"
    assert emulator.executions == [] and _posts(emulator) == []


def test_a_malformed_input_is_a_usage_error_and_a_missing_flow_is_named(seeded) -> None:
    emulator, ops_run = seeded
    malformed = ops_run("hello", "-i", "year")
    assert malformed.exit_code == 2 and "-i year: expected key=value" in malformed.stderr
    missing = ops_run("nope")
    assert missing.exit_code == 1 and "flow zoomcamp.nope is not on the server" in missing.stderr
    assert emulator.executions == []


@pytest.mark.parametrize("version", ["1.1.0", "0.20.7"])
@pytest.mark.parametrize(("fault", "posts"), [("lost", 1), ("503", 2)])
def test_a_create_whose_answer_is_lost_is_checked_not_repeated(version, fault, posts, tmp_path: Path,
                                                               outputs_for, run_ops) -> None:
    creates = lambda method, path: method == "POST" and "/executions/" in path  # noqa: E731
    with KestraEmulator(version=version, fault_rate=1.0, faults=(fault,), fault_on=creates, fault_limit=1) as emulator:
        outputs = outputs_for(emulator)
        assert run_ops("--outputs", outputs, "seed-flows", write_flows(tmp_path / "f", {"zoomcamp/hello.yaml": HELLO_FLOW})).exit_code == 0
        result = run_ops(*FAST_RETRIES, "--outputs", outputs, "run", "hello", "--wait", *NO_WAIT)
        assert result.exit_code == 0, result.output
        assert len(emulator.executions) == 1 and emulator.executions[0]["state"] == "SUCCESS"
        assert [(r.fault, r.applied) for r in _posts(emulator)] == [(fault, fault == "lost")] + [(None, True)] * (posts - 1)
    assert_no_spec_violations(emulator)


@pytest.mark.parametrize(("version", "seed"), [("1.1.0", 2), ("0.20.7", 4)])
def test_run_under_30_percent_faults_makes_one_execution_and_follows_it(version, seed, tmp_path: Path,
                                                                        outputs_for, run_ops) -> None:
    with KestraEmulator(version=version) as clean:
        flows = write_flows(tmp_path / "f", {"zoomcamp/hello.yaml": HELLO_FLOW})
        assert run_ops("--outputs", outputs_for(clean), "seed-flows", flows).exit_code == 0
        state = clean.state
    with KestraEmulator(version=version, fault_rate=0.3, seed=seed) as emulator:
        emulator.state.flows = state.flows
        emulator.state.triggers = state.triggers
        result = run_ops(*FAST_RETRIES, "--outputs", outputs_for(emulator), "run", "hello", "--wait", *NO_WAIT)
        assert result.exit_code == 0, result.output
        assert [run["state"] for run in emulator.executions] == ["SUCCESS"]
        assert {r.fault for r in emulator.requests if r.fault} == {"503", "lost"}
    assert_no_spec_violations(emulator)


def test_a_validator_python_cannot_read_is_left_to_the_server() -> None:
    from kestra_ops.flow_inputs import check_inputs

    # Java's regex syntax (StringInput uses Pattern.matches) has what Python's lacks, e.g. \p{Alpha}.
    flow = {"namespace": "zoomcamp", "id": "f", "inputs": [{"id": "name", "type": "STRING", "validator": r"^\p{Alpha}+$"}]}
    check_inputs(flow, {"name": "green"})


def test_a_success_that_skipped_a_branch_counts_the_task_runs_it_made() -> None:
    from kestra_ops.executions import progress

    # An If runs one branch of two: the flow declares 4 tasks, the run made 3; the bar ends full at 3/3.
    runs = [{"taskId": task, "state": {"current": "SUCCESS"}} for task in ("check", "branch", "then_task")]
    done = progress({"state": {"current": "SUCCESS"}, "taskRunList": runs}, declared_tasks=4)
    assert (done.done, done.total, done.text) == (3, 3, "SUCCESS: 3/3 task runs done")
    running = progress({"state": {"current": "RUNNING"}, "taskRunList": runs[:1]}, declared_tasks=4)
    assert running.text == "RUNNING: 1/4 task runs done"
