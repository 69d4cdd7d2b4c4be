from __future__ import annotations

import time

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.server import KestraEmulator


def test_a_503_fault_applies_nothing_and_can_carry_retry_after() -> None:
    with KestraEmulator(fault_rate=1.0, faults=("503",), retry_after_s=2) as emulator, client_for(emulator) as client:
        response = client.post("/api/v1/main/flows", content=flow_source("a"), headers=YAML)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "2")
        assert client.get("/ping").status_code == 200  # /ping is never faulted
    assert emulator.flows == {}
    assert emulator.write_count == 0


def test_a_request_refused_with_503_is_still_checked_against_the_spec() -> None:
    with KestraEmulator(fault_rate=1.0, faults=("503",)) as emulator, client_for(emulator) as client:
        response = client.post("/api/v1/main/flows", content=flow_source("a"), headers={"Content-Type": "text/plain"})
    assert response.status_code == 503
    assert any("createFlow" in violation for violation in emulator.spec_violations)


def test_a_lost_response_is_applied_then_the_connection_closes() -> None:
    with KestraEmulator(fault_rate=1.0, faults=("lost",)) as emulator, client_for(emulator) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/v1/main/flows", content=flow_source("a"), headers=YAML)
    assert set(emulator.flows) == {("zoomcamp", "a")}
    assert emulator.write_count == 1
    [entry] = emulator.requests
    assert (entry.status, entry.applied, entry.fault) == (None, True, "lost")


def test_faults_can_be_narrowed_to_some_requests_and_capped() -> None:
    only_posts = lambda method, path: method == "POST"  # noqa: E731
    with KestraEmulator(fault_rate=1.0, faults=("lost",), fault_on=only_posts, fault_limit=1) as emulator, \
            client_for(emulator) as client:
        assert client.get("/api/v1/configs").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/v1/main/flows", content=flow_source("a"), headers=YAML)
        assert client.post("/api/v1/main/flows", content=flow_source("b"), headers=YAML).status_code == 200
    assert [entry.fault for entry in emulator.requests] == [None, "lost", None]


def _fault_sequence(seed: int) -> list[str | None]:
    with KestraEmulator(fault_rate=0.5, seed=seed) as emulator, client_for(emulator) as client:
        for _ in range(30):
            try:
                client.get("/api/v1/configs")
            except httpx.TransportError:
                pass
    return [entry.fault for entry in emulator.requests]


def test_faults_are_deterministic_by_seed_and_mix_both_kinds() -> None:
    first = _fault_sequence(seed=7)
    assert first == _fault_sequence(seed=7)
    assert first != _fault_sequence(seed=8)
    assert {"503", "lost", None} == set(first)


def test_latency_delays_every_request() -> None:
    with KestraEmulator(latency_s=0.05) as emulator, client_for(emulator) as client:
        started = time.perf_counter()
        client.get("/ping")
        assert time.perf_counter() - started >= 0.05


def test_invalid_fault_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="faults"):
        KestraEmulator(fault_rate=0.3, faults=("timeout",))
    with pytest.raises(ValueError, match="fault_rate"):
        KestraEmulator(fault_rate=1.5)
