from __future__ import annotations

import httpx

from tests.kestra_emulator.conftest import YAML, flow_source
from tests.kestra_emulator.server import KestraEmulator


def _bulk(api: httpx.Client, *sources: str, **params: str) -> httpx.Response:
    return api.post("/flows/zoomcamp", content="\n---\n".join(sources), headers=YAML, params=params)


def test_delete_defaults_to_true_and_removes_flows_missing_from_the_body(api: httpx.Client,
                                                                          kestra_emulator: KestraEmulator) -> None:
    api.post("/flows", content=flow_source("old"), headers=YAML)
    response = _bulk(api, flow_source("new"))
    assert response.status_code == 200
    assert [flow["id"] for flow in response.json()] == ["old", "new"]  # deleted flows first
    assert set(kestra_emulator.flows) == {("zoomcamp", "new")}


def test_delete_false_keeps_other_flows(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    api.post("/flows", content=flow_source("old"), headers=YAML)
    _bulk(api, flow_source("new"), delete="false")
    assert set(kestra_emulator.flows) == {("zoomcamp", "old"), ("zoomcamp", "new")}


def test_bulk_keeps_revisions_of_unchanged_flows_and_trims_sources(api: httpx.Client,
                                                                   kestra_emulator: KestraEmulator) -> None:
    _bulk(api, flow_source("a"), flow_source("b"), delete="false")
    writes = kestra_emulator.write_count
    response = _bulk(api, flow_source("a"), flow_source("b", extra="description: changed\n"), delete="false")
    assert [flow["revision"] for flow in response.json()] == [1, 2]
    assert kestra_emulator.write_count == writes + 1
    assert kestra_emulator.flows[("zoomcamp", "a")] == [flow_source("a").strip()]


def test_a_triple_dash_inside_a_flow_breaks_the_naive_split(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    with_dashes = flow_source("sql", extra="description: |\n  --- a SQL comment ---\n")
    assert api.post("/flows", content=with_dashes, headers=YAML).status_code == 200  # fine on its own
    response = _bulk(api, with_dashes, delete="false")
    assert response.status_code == 422
    assert kestra_emulator.flows[("zoomcamp", "sql")] == [with_dashes]


def test_every_flow_must_be_in_the_path_namespace(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    response = _bulk(api, flow_source("a"), flow_source("b", "elsewhere"), delete="false")
    assert response.status_code == 422
    assert "flow namespace is invalid" in response.json()["_embedded"]["errors"][0]["message"]
    assert kestra_emulator.flows == {}


def test_duplicate_ids_in_one_body_are_rejected(api: httpx.Client) -> None:
    assert _bulk(api, flow_source("a"), flow_source("a"), delete="false").status_code == 422
