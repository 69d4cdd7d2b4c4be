"""The flow runner is no more lenient than Kestra: inputs typed as declared, If conditions that must
render to true or false."""

from __future__ import annotations

import tempfile

import pytest

from tests.flows.flow_runner import FlowRun, TaskFailed, UnsupportedTask, load_flow


def never_fetch(url: str):
    raise AssertionError(f"unexpected download {url}")


def flow_run(flow: dict, inputs: dict) -> FlowRun:
    return FlowRun(flow, inputs, "RunnerTest1", conninfo={}, fetch=never_fetch)


@pytest.mark.parametrize(("given", "typed"), [("false", False), (" True ", True), (False, False)])
def test_a_bool_input_given_as_text_is_typed_as_kestra_types_it(given, typed):
    run = flow_run(load_flow("02_postgres_taxi"), {"reload": given})
    assert run.context.inputs["reload"] is typed


def test_a_bool_input_that_is_not_a_boolean_is_refused():
    with pytest.raises(ValueError, match="reload"):
        flow_run(load_flow("02_postgres_taxi"), {"reload": "maybe"})


def test_a_required_input_without_value_or_default_is_refused():
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "taxi", "type": "STRING"}], "tasks": []}
    with pytest.raises(ValueError, match="taxi"):
        flow_run(flow, {})


@pytest.mark.parametrize(("condition", "branch"), [("{{ inputs.flag }}", "yes"), ("{{ not inputs.flag }}", "no")])
def test_if_runs_the_branch_its_condition_renders(condition, branch):
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "flag", "type": "BOOL", "defaults": True}], "tasks": [
        {"id": "choose", "type": "io.kestra.plugin.core.flow.If", "condition": condition,
         "then": [{"id": "yes", "type": "io.kestra.plugin.core.log.Log", "message": "y"}],
         "else": [{"id": "no", "type": "io.kestra.plugin.core.log.Log", "message": "n"}]}]}
    run = flow_run(flow, {})
    run.run()
    assert run.executed == [branch, "choose"]


def test_an_if_condition_rendering_to_other_text_fails_instead_of_counting_as_truthy():
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "taxi", "type": "STRING", "defaults": "green"}], "tasks": [
        {"id": "choose", "type": "io.kestra.plugin.core.flow.If", "condition": "{{ inputs.taxi }}",
         "then": [{"id": "yes", "type": "io.kestra.plugin.core.log.Log", "message": "y"}]}]}
    with pytest.raises(UnsupportedTask, match="choose"):
        flow_run(flow, {}).run()


def download_flow(rest: str) -> dict:
    command = 'wget -qO "t.csv.gz" "http://data.test/t.csv.gz" && gunzip "t.csv.gz" && ' + rest
    return {"namespace": "zoomcamp", "tasks": [
        {"id": "extract", "type": "io.kestra.plugin.scripts.shell.Commands",
         "taskRunner": {"type": "io.kestra.plugin.core.runner.Process"}, "outputFiles": ["*.csv"],
         "commands": [command]}]}


def test_the_rest_of_the_download_command_runs_and_its_outputs_lines_become_vars(tmp_path):
    csv = tmp_path / "month.csv"
    csv.write_text("a,b\n1,2\n")
    run = FlowRun(download_flow('n=$(wc -l < t.csv) && echo "noise" && echo "::{\\"outputs\\":{\\"lines\\":$n}}::"'),
                  {}, "RunnerTest2", conninfo={}, fetch=lambda url: csv)
    run.run()
    outputs = run.context.outputs["extract"]
    assert outputs["vars"] == {"lines": 2}
    assert list(outputs["outputFiles"]) == ["t.csv"]
    assert run.fetched_urls == ["http://data.test/t.csv.gz"]


def test_a_failing_command_fails_the_task_and_the_working_directory_is_removed(tmp_path, monkeypatch):
    csv = tmp_path / "month.csv"
    csv.write_text("a,b\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = FlowRun(download_flow("md5sum missing.csv"), {}, "RunnerTest3", conninfo={}, fetch=lambda url: csv)
    with pytest.raises(TaskFailed, match="extract.*missing.csv"):
        run.run()
    assert list(scratch.iterdir()) == [] and csv.exists()
