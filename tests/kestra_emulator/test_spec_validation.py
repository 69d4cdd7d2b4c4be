from __future__ import annotations

import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.http_types import ApiResponse
from tests.kestra_emulator.server import KestraEmulator


def test_a_request_with_a_content_type_the_spec_does_not_allow_is_415_and_recorded() -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        response = client.post("/flows", content=flow_source("a"), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert emulator.flows == {}
    assert any("createFlow" in violation and "Content-Type" in violation for violation in emulator.spec_violations)


def test_a_parameter_out_of_range_is_400_and_recorded() -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        assert client.get("/flows/search", params={"page": 0}).status_code == 400
    assert any("'page'" in violation for violation in emulator.spec_violations)


def test_a_body_missing_a_required_property_is_served_like_kestra_but_recorded() -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        client.post("/flows", content=flow_source("a"), headers=YAML)
        response = client.put("/triggers", json={"namespace": "zoomcamp", "flowId": "a", "triggerId": "t"})
    assert response.status_code == 404  # the flow has no such trigger: Kestra gets that far
    assert any("'date' is a required property" in violation for violation in emulator.spec_violations)


def test_a_response_that_breaks_the_spec_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        wrong = ApiResponse.json(200, {"type": "NOT_A_KV_TYPE", "value": 1})
        monkeypatch.setattr(emulator, "_run_handler", lambda route, request: (wrong, False))
        assert client.get("/namespaces/zoomcamp/kv/KEY").status_code == 200
    assert any("getKeyValue" in violation and "NOT_A_KV_TYPE" in violation for violation in emulator.spec_violations)


def test_the_fixture_check_fails_a_test_with_violations() -> None:
    with KestraEmulator() as emulator, client_for(emulator, "/api/v1/main") as client:
        client.post("/flows", content=flow_source("a"), headers={"Content-Type": "application/json"})
    with pytest.raises(pytest.fail.Exception, match="breaks Kestra's API spec"):
        assert_no_spec_violations(emulator)


def test_valid_traffic_records_nothing(kestra_emulator: KestraEmulator) -> None:
    with client_for(kestra_emulator, "/api/v1/main") as client:
        client.post("/flows", content=flow_source("a"), headers=YAML)
        client.get("/flows/search", params={"namespace": "zoomcamp"})
    assert kestra_emulator.spec_violations == []
