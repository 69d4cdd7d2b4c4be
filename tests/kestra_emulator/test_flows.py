from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.server import KestraEmulator


def test_create_answers_200_with_revision_1_and_stores_the_source(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    response = api.post("/flows", content=flow_source("hello"), headers=YAML)
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert kestra_emulator.flows == {("zoomcamp", "hello"): [flow_source("hello")]}


@pytest.mark.parametrize("content_type", ["application/yaml", "text/yaml", "text/plain"])
def test_create_needs_exactly_application_x_yaml(content_type: str) -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        response = client.post("/flows", content=flow_source("hello"), headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert emulator.flows == {}
    assert emulator.spec_violations  # a client sending this is caught, not just refused


def test_create_of_an_existing_id_is_422_flow_id_already_exists(api: httpx.Client) -> None:
    api.post("/flows", content=flow_source("hello"), headers=YAML)
    response = api.post("/flows", content=flow_source("hello"), headers=YAML)
    assert response.status_code == 422
    assert "Flow id already exists" in response.json()["message"]


def test_update_of_a_missing_flow_is_404_with_an_empty_body(api: httpx.Client) -> None:
    response = api.put("/flows/zoomcamp/nope", content=flow_source("nope"), headers=YAML)
    assert response.status_code == 404
    assert response.content == b""


def test_an_identical_source_keeps_the_revision_and_a_changed_one_adds_one(api: httpx.Client,
                                                                              kestra_emulator: KestraEmulator) -> None:
    api.post("/flows", content=flow_source("hello"), headers=YAML)
    writes = kestra_emulator.write_count
    same = api.put("/flows/zoomcamp/hello", content=flow_source("hello"), headers=YAML)
    assert same.json()["revision"] == 1
    assert kestra_emulator.write_count == writes
    changed = api.put("/flows/zoomcamp/hello", content=flow_source("hello", extra="description: new\n"), headers=YAML)
    assert changed.json()["revision"] == 2
    assert len(kestra_emulator.flows[("zoomcamp", "hello")]) == 2


def test_get_with_source_returns_the_stored_text(api: httpx.Client) -> None:
    api.post("/flows", content=flow_source("hello"), headers=YAML)
    document = api.get("/flows/zoomcamp/hello", params={"source": "true"}).json()
    assert document["source"] == flow_source("hello")
    assert "source" not in api.get("/flows/zoomcamp/hello").json()


def test_delete_is_204_then_404(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    api.post("/flows", content=flow_source("hello"), headers=YAML)
    assert api.delete("/flows/zoomcamp/hello").status_code == 204
    assert api.delete("/flows/zoomcamp/hello").status_code == 404
    assert kestra_emulator.flows == {}


def test_search_pages_from_1_with_the_total(api: httpx.Client) -> None:
    for index in range(5):
        api.post("/flows", content=flow_source(f"f{index}"), headers=YAML)
    api.post("/flows", content=flow_source("other", "elsewhere"), headers=YAML)
    page2 = api.get("/flows/search", params={"namespace": "zoomcamp", "page": 2, "size": 2}).json()
    assert page2["total"] == 5
    assert [flow["id"] for flow in page2["results"]] == ["f2", "f3"]
    filtered = api.get("/flows/search", params={"filters[namespace][EQUALS]": "elsewhere"}).json()
    assert [flow["id"] for flow in filtered["results"]] == ["other"]


def test_export_by_query_zips_the_namespace_sources(api: httpx.Client) -> None:
    api.post("/flows", content=flow_source("a"), headers=YAML)
    api.post("/flows", content=flow_source("b", "elsewhere"), headers=YAML)
    response = api.get("/flows/export/by-query", params={"namespace": "zoomcamp"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert {name: archive.read(name).decode() for name in archive.namelist()} == {"zoomcamp-a.yml": flow_source("a")}


def _export(client: httpx.Client, params: dict[str, str]) -> dict[str, str]:
    response = client.get("/flows/export/by-query", params=params)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def _seed_export_cases(client: httpx.Client) -> None:
    for flow_id, namespace in (("a", "zoomcamp"), ("b", "zoomcamp.sub"), ("c", "zoomcampx"), ("d", "other")):
        client.post("/flows", content=flow_source(flow_id, namespace), headers=YAML)
    client.put("/flows/zoomcamp/a", content=flow_source("a", extra="description: v2\n"), headers=YAML)
    client.post("/flows", content=flow_source("gone"), headers=YAML)
    client.delete("/flows/zoomcamp/gone")


@pytest.mark.parametrize(("version", "prefix", "entry"), [
    ("1.1.0", "/api/v1/main", "{ns}-{id}.yml"),  # HasSource.asZipFile(flows, namespace + "-" + id + ".yml"), 1.x
    ("0.20.7", "/api/v1", "{ns}.{id}.yml"),      # FlowController.zipFlows, v0.20.7
])
def test_export_by_namespace_is_a_prefix_of_the_last_revisions_of_live_flows(version: str, prefix: str,
                                                                             entry: str) -> None:
    """The namespace filter is `ns` or `ns.%` (AbstractJdbcFlowRepository.findWithSource), from the last
    revision of each flow that is not deleted."""
    with KestraEmulator(version=version) as emulator, client_for(emulator, prefix) as client:
        _seed_export_cases(client)
        assert _export(client, {"namespace": "zoomcamp"}) == {
            entry.format(ns="zoomcamp", id="a"): flow_source("a", extra="description: v2\n"),
            entry.format(ns="zoomcamp.sub", id="b"): flow_source("b", "zoomcamp.sub"),
        }


def test_export_filters_win_over_the_deprecated_namespace_parameter(api: httpx.Client) -> None:
    """RequestUtils.getFiltersOrDefaultToLegacyMapping (1.x): `filters[...]` when given, else the legacy ones."""
    _seed_export_cases(api)
    assert set(_export(api, {"namespace": "zoomcamp", "filters[namespace][EQUALS]": "other"})) == {"other-d.yml"}
    assert set(_export(api, {"filters[namespace][PREFIX]": "zoomcamp"})) == {"zoomcamp-a.yml", "zoomcamp.sub-b.yml"}


def test_0_20_serves_sources_without_their_first_revision_line() -> None:
    with KestraEmulator(version="0.20.7") as emulator, client_for(emulator, "/api/v1") as client:
        client.post("/flows", content=flow_source("numbered", extra="revision: 3\n"), headers=YAML)
        assert _export(client, {"namespace": "zoomcamp"}) == {"zoomcamp.numbered.yml": flow_source("numbered")}
        assert client.get("/flows/zoomcamp/numbered", params={"source": "true"}).json()["source"] == flow_source("numbered")
