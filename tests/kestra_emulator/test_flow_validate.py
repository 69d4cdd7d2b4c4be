from __future__ import annotations

import httpx
import pytest
import yaml

from tests.kestra_emulator.conftest import YAML, flow_source
from tests.kestra_emulator.flow_rules import croniter_expression

SCHEDULE = """triggers:
  - id: green_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{cron}"
    timezone: America/New_York
"""


def _validate(api: httpx.Client, *sources: str) -> list[dict]:
    response = api.post("/flows/validate", content="\n---\n".join(sources), headers=YAML)
    assert response.status_code == 200
    return response.json()


def test_a_valid_flow_has_no_constraints(api: httpx.Client) -> None:
    [result] = _validate(api, flow_source("ok", extra=SCHEDULE.format(cron="0 9 1 * *")))
    assert result["flow"] == "ok"
    assert "constraints" not in result


@pytest.mark.parametrize(("source", "fragment"), [
    ("id: x\nnamespace: zoomcamp\ntasks: [\n", "Invalid YAML"),
    (flow_source("bad id"), "id"),
    (flow_source("ok", "Zoomcamp"), "namespace"),
    ("id: x\nnamespace: zoomcamp\n", "tasks"),
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n", "type"),
    (flow_source("x", extra="unknownKey: 1\n"), "Unrecognized field"),
    (flow_source("x", extra="inputs:\n  - id: taxi\n    type: TEXT\n"), "inputs[0].type"),
    (flow_source("x", extra="inputs:\n  - type: STRING\n"), "inputs[0].id"),
    (flow_source("x", extra="inputs:\n  - id: two words\n    type: STRING\n"), "inputs[0].id"),
    (flow_source("x", extra="inputs:\n  - id: a\n    type: STRING\n  - id: a\n    type: INT\n"),
     "Duplicate input id"),
    (flow_source("pause"), "reserved"),
    (flow_source("ok", extra=SCHEDULE.format(cron="0 9 32 * *")), "cron"),
    # Six or seven fields are seconds and year to croniter, but not to Kestra's UNIX cron parser.
    (flow_source("ok", extra=SCHEDULE.format(cron="0 9 1 * * *")), "cron"),
    (flow_source("ok", extra=SCHEDULE.format(cron="0 0 9 1 * * 2020")), "cron"),
    (flow_source("ok", extra=SCHEDULE.format(cron="0 9 1 * *")).replace("America/New_York", "Mars/Base"), "time-zone"),
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.flow.If\n    condition: 'true'\n"
     "    then:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n", "Duplicate task id"),
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\nerrors:\n"
     "  - id: a\n    type: io.kestra.plugin.core.log.Log\n", "Duplicate task id"),
    (flow_source("x", extra=SCHEDULE.format(cron="@daily") + SCHEDULE.format(cron="@daily").replace("triggers:\n", "")),
     "Duplicate trigger id"),
    (flow_source("ok", extra=SCHEDULE.format(cron="@daily").replace("green_schedule", "green schedule")),
     "triggers[0].id: must match"),
    (flow_source("ok", extra="triggers:\n  - just a string\n"), "triggers[0]: must be a trigger object"),
    # a type no installed plugin provides, wherever a plugin type goes
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Logg\n",
     "tasks[0].type: Invalid type: io.kestra.plugin.core.log.Logg"),
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.flow.If\n    condition: 'true'\n"
     "    then:\n      - id: b\n        type: io.kestra.plugin.scripts.shell.Command\n",
     "tasks[0].then[0].type: Invalid type: io.kestra.plugin.scripts.shell.Command"),
    ("id: x\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n"
     "    taskRunner:\n      type: io.kestra.plugin.core.runner.Proces\n", "tasks[0].taskRunner.type: Invalid type"),
    (flow_source("ok", extra=SCHEDULE.format(cron="@daily").replace("trigger.Schedule", "trigger.Schedules")),
     "triggers[0].type: Invalid type"),
])
def test_an_invalid_flow_is_still_200_with_constraints(api: httpx.Client, source: str, fragment: str) -> None:
    [result] = _validate(api, source)
    assert fragment in result["constraints"]


def test_a_six_field_cron_is_valid_with_seconds_first_and_scheduled_so(api: httpx.Client) -> None:
    source = flow_source("ok", extra=SCHEDULE.format(cron="30 0 9 1 * *") + "    withSeconds: true\n")
    [result] = _validate(api, source)
    assert "constraints" not in result
    assert croniter_expression(yaml.safe_load(source)["triggers"][0]) == "0 9 1 * * 30"


def test_several_documents_are_split_on_lines_of_dashes(api: httpx.Client) -> None:
    results = _validate(api, flow_source("a"), flow_source("b", "BAD"))
    assert [(result["index"], "constraints" in result) for result in results] == [(0, False), (1, True)]
