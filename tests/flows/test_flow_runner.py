"""The flow runner is no more lenient than Kestra: inputs typed as declared, If conditions that must
render to true or false."""

from __future__ import annotations

import pytest

from tests.flows.flow_runner import FlowRun, UnsupportedTask, load_flow


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
