from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.server import KestraEmulator
from tests.kestra_emulator.test_triggers_and_backfills import SCHEDULED


@pytest.fixture
def legacy_api() -> Iterator[httpx.Client]:
    with KestraEmulator(version="0.20.7") as emulator, client_for(emulator, "/api/v1") as client:
        assert client.post("/flows", content=SCHEDULED, headers=YAML).status_code == 200
        yield client
    assert_no_spec_violations(emulator)


@pytest.fixture
def flow(api: httpx.Client) -> httpx.Client:
    assert api.post("/flows", content=SCHEDULED, headers=YAML).status_code == 200
    return api


def test_create_takes_multipart_inputs_and_label_query(flow: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    response = flow.post("/executions/zoomcamp/taxi", params={"labels": ["run:manual", "year:2019"]},
                         files={"taxi": (None, "green")})
    assert response.status_code == 200
    [run] = kestra_emulator.executions
    assert run["inputs"] == {"taxi": "green"}
    assert (run["labels"]["run"], run["labels"]["year"], run["labels"]["team"]) == ("manual", "2019", "data")


def test_an_input_outside_its_select_values_is_422(flow: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    assert flow.post("/executions/zoomcamp/taxi", files={"taxi": (None, "blue")}).status_code == 422
    assert kestra_emulator.executions == []


def test_a_select_with_allow_custom_value_takes_a_value_outside_its_list(api: httpx.Client,
                                                                         kestra_emulator: KestraEmulator) -> None:
    custom = SCHEDULED.replace("    defaults: yellow\n", "    defaults: yellow\n    allowCustomValue: true\n")
    assert custom != SCHEDULED
    assert api.post("/flows", content=custom, headers=YAML).status_code == 200
    assert api.post("/executions/zoomcamp/taxi", files={"taxi": (None, "blue")}).status_code == 200
    assert [run["inputs"] for run in kestra_emulator.executions] == [{"taxi": "blue"}]


def test_a_string_input_must_match_its_validator_as_a_whole(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    validated = SCHEDULED.replace("    type: SELECT\n    values: [yellow, green]\n",
                                  '    type: STRING\n    validator: "^(green|yellow)$"\n')
    assert validated != SCHEDULED
    assert api.post("/flows", content=validated, headers=YAML).status_code == 200
    refused = api.post("/executions/zoomcamp/taxi", files={"taxi": (None, "greenish")})
    assert refused.status_code == 422 and "must match the pattern" in refused.json()["message"]
    assert api.post("/executions/zoomcamp/taxi", files={"taxi": (None, "green")}).status_code == 200
    assert [run["inputs"] for run in kestra_emulator.executions] == [{"taxi": "green"}]


def test_a_disabled_flow_is_409(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    api.post("/flows", content=SCHEDULED + "disabled: true\n", headers=YAML)
    assert api.post("/executions/zoomcamp/taxi", files={"taxi": (None, "green")}).status_code == 409
    assert kestra_emulator.executions == []


def test_a_missing_flow_is_404(api: httpx.Client) -> None:
    assert api.post("/executions/zoomcamp/nope", files={"taxi": (None, "green")}).status_code == 404


def test_1x_search_filters_by_flow_and_label(flow: httpx.Client) -> None:
    flow.post("/executions/zoomcamp/taxi", params={"labels": "run:a"}, files={"taxi": (None, "green")})
    flow.post("/executions/zoomcamp/taxi", params={"labels": "run:b"}, files={"taxi": (None, "green")})
    found = flow.get("/executions/search", params={"filters[flowId][EQUALS]": "taxi",
                                                   "filters[labels][EQUALS][run]": "b"}).json()
    assert found["total"] == 1
    assert {"key": "run", "value": "b"} in found["results"][0]["labels"]


def test_0_20_search_takes_plain_parameters_and_ignores_1x_filters(legacy_api: httpx.Client) -> None:
    legacy_api.post("/executions/zoomcamp/taxi", params={"labels": "run:a"}, files={"taxi": (None, "green")})
    legacy_api.post("/executions/zoomcamp/taxi", params={"labels": "run:b"}, files={"taxi": (None, "green")})
    plain = legacy_api.get("/executions/search", params={"flowId": "taxi", "labels": "run:b"}).json()
    assert plain["total"] == 1
    filtered = legacy_api.get("/executions/search", params={"filters[labels][EQUALS][run]": "b"}).json()
    assert filtered["total"] == 2


@pytest.mark.parametrize(("value", "status"), [("2019", 200), ("-7", 200), ("2_019", 422), (" 2019", 422),
                                               ("3000000000", 422)])
def test_an_int_input_is_read_as_integer_valueof_reads_it(api: httpx.Client, value: str, status: int) -> None:
    # FlowInputOutput.parseType (v0.20.7): Integer.valueOf, whose NumberFormatException is a 422
    assert api.post("/flows", content=flow_source("years", extra="inputs:\n  - id: year\n    type: INT\n"),
                    headers=YAML).status_code == 200
    response = api.post("/executions/zoomcamp/years", files={"year": (None, value)})
    assert response.status_code == status, response.text
    if status == 422:
        assert f'For input string: "{value}"' in response.json()["message"]
