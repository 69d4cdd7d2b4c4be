from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kestra_emulator.conftest import PASSWORD, USERNAME, YAML, client_for, flow_source
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.server import KestraEmulator


@pytest.fixture
def legacy_emulator() -> Iterator[KestraEmulator]:
    with KestraEmulator(version="0.20.7") as emulator:
        yield emulator
    assert_no_spec_violations(emulator)


def test_ping_answers_pong_without_credentials(kestra_emulator: KestraEmulator) -> None:
    with client_for(kestra_emulator, auth=None) as anonymous:
        response = anonymous.get("/ping")
    assert (response.status_code, response.text) == (200, "pong")


@pytest.mark.parametrize("auth", [None, (USERNAME, "wrong-password"), ("someone@example.com", PASSWORD)])
def test_api_without_valid_credentials_is_401_with_an_empty_body(kestra_emulator: KestraEmulator,
                                                                 auth: tuple[str, str] | None) -> None:
    with client_for(kestra_emulator, auth=auth) as client:
        response = client.get("/api/v1/configs")
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"] == "Basic"
    assert kestra_emulator.write_count == 0


def test_configs_report_the_version(kestra_emulator: KestraEmulator, legacy_emulator: KestraEmulator) -> None:
    for emulator, version in ((kestra_emulator, "1.1.0"), (legacy_emulator, "0.20.7")):
        with client_for(emulator) as client:
            assert client.get("/api/v1/configs").json()["version"] == version


def test_1x_serves_tenant_main_and_untenanted_paths_as_main(kestra_emulator: KestraEmulator) -> None:
    with client_for(kestra_emulator) as client:
        assert client.post("/api/v1/main/flows", content=flow_source("a"), headers=YAML).status_code == 200
        assert client.get("/api/v1/flows/zoomcamp/a").json()["id"] == "a"
        assert client.get("/api/v1/main/flows/zoomcamp/a").json()["id"] == "a"


def test_1x_rejects_any_other_tenant_with_400(kestra_emulator: KestraEmulator) -> None:
    with client_for(kestra_emulator) as client:
        assert client.get("/api/v1/acme/flows/search").status_code == 400


def test_0_20_serves_only_untenanted_paths(legacy_emulator: KestraEmulator) -> None:
    with client_for(legacy_emulator) as client:
        assert client.post("/api/v1/flows", content=flow_source("a"), headers=YAML).status_code == 200
        assert client.get("/api/v1/flows/zoomcamp/a").json()["revision"] == 1
        assert client.get("/api/v1/main/flows/zoomcamp/a").status_code == 404


def test_0_20_accepts_a_reserved_1x_flow_id_that_1x_rejects(kestra_emulator: KestraEmulator,
                                                           legacy_emulator: KestraEmulator) -> None:
    source = flow_source("resume")
    with client_for(legacy_emulator) as old, client_for(kestra_emulator) as new:
        statuses = (old.post("/api/v1/flows", content=source, headers=YAML).status_code,
                    new.post("/api/v1/main/flows", content=source, headers=YAML).status_code)
    assert statuses == (200, 422)


def test_an_unknown_path_is_404_and_an_unemulated_operation_is_501_and_recorded(kestra_emulator: KestraEmulator) -> None:
    with client_for(kestra_emulator) as client:
        assert client.get("/api/v1/main/nothing-here").status_code == 404
        assert client.get("/api/v1/main/flows/distinct-namespaces").status_code == 501
    assert any("not emulated" in violation for violation in kestra_emulator.spec_violations)
    kestra_emulator.spec_violations.clear()
