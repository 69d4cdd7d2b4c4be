"""Emulator throughput on loopback, with and without the per-request spec check (not part of the test run).

    .venv/bin/python benchmarks/emulator_throughput.py

Prints requests/s for a request mix a seeding client makes (KV put/get, flow get with source, flow search
page), from one client and from four concurrent clients (client and server share this process), and the
time the server spends in the spec check per request, with and without the cache of verdicts on documents
already seen.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.kestra_emulator import spec  # noqa: E402
from tests.kestra_emulator.conftest import PASSWORD, TLS, USERNAME, YAML, flow_source  # noqa: E402
from tests.kestra_emulator.server import KestraEmulator  # noqa: E402
from tests.kestra_emulator.spec import OperationCheck  # noqa: E402

REQUESTS = 2000
CLIENTS = 4


def _mix(client: httpx.Client, index: int) -> None:
    match index % 4:
        case 0:
            client.put(f"/namespaces/zoomcamp/kv/K{index % 50}", content='"v"', headers={"Content-Type": "application/json"})
        case 1:
            client.get("/namespaces/zoomcamp/kv/K0")
        case 2:
            client.get(f"/flows/zoomcamp/f{index % 50}", params={"source": "true"})
        case 3:
            client.get("/flows/search", params={"namespace": "zoomcamp", "page": 1, "size": 10})


def _client(emulator: KestraEmulator) -> httpx.Client:
    return httpx.Client(base_url=f"{emulator.url}/api/v1/main", auth=(USERNAME, PASSWORD), verify=TLS)


def _throughput(emulator: KestraEmulator, clients: int) -> float:
    per_client = REQUESTS // clients

    def run() -> None:
        with _client(emulator) as client:
            for index in range(per_client):
                _mix(client, index)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_client * clients / (time.perf_counter() - started)


class _CheckTimer:
    """Accumulates the time the server spends in the spec checks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.requests = 0

    @contextmanager
    def installed(self) -> Iterator[None]:
        original_request, original_response = OperationCheck.check_request, OperationCheck.check_response

        def timed_request(check: OperationCheck, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_request(check, *args)
            finally:
                self.seconds += time.perf_counter() - started
                self.requests += 1

        def timed_response(check: OperationCheck, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_response(check, *args)
            finally:
                self.seconds += time.perf_counter() - started

        with mock.patch.object(OperationCheck, "check_request", timed_request), \
                mock.patch.object(OperationCheck, "check_response", timed_response):
            yield


def main() -> None:
    rows = []
    with KestraEmulator() as emulator, _client(emulator) as client:
        for index in range(50):
            client.post("/flows", content=flow_source(f"f{index}"), headers=YAML)
        for label, clients, cache in (("1 client, no verdict cache", 1, 0), ("1 client", 1, spec._VERDICTS_MAX),
                                      (f"{CLIENTS} clients", CLIENTS, spec._VERDICTS_MAX)):
            timer = _CheckTimer()
            with timer.installed(), mock.patch.object(spec, "_VERDICTS_MAX", cache):
                rate = _throughput(emulator, clients)
            rows.append((label, rate, timer.seconds / max(timer.requests, 1) * 1e6))
        assert not emulator.spec_violations, emulator.spec_violations
    print(f"{REQUESTS} requests (KV put/get, flow get with source, flow search page of 10) on loopback")
    baseline = rows[0][1]
    print(f"{'run':<26} | {'req/s':>6} | {'vs no cache':>11} | {'spec check per request':>22}")
    for label, rate, check_us in rows:
        print(f"{label:<26} | {rate:>6.0f} | {rate / baseline:>10.2f}x | {check_us:>19.0f} µs")


if __name__ == "__main__":
    main()
