"""KestraEmulator: a real HTTP server on 127.0.0.1 speaking Kestra's REST API, checked against its spec."""

from __future__ import annotations

import base64
import functools
import threading
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from tests.kestra_emulator import executions, flows, kv, misc, namespace_files, runs, triggers
from tests.kestra_emulator.faults import FaultPlan
from tests.kestra_emulator.http_handler import EmulatorHTTPServer, handler_for
from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse, RecordedRequest
from tests.kestra_emulator.routing import Route, Router
from tests.kestra_emulator.scheduler import run_backfills
from tests.kestra_emulator.spec import kestra_spec
from tests.kestra_emulator.state import EmulatorState

EMULATED_ROUTES = (*misc.ROUTES, *flows.ROUTES, *kv.ROUTES, *namespace_files.ROUTES, *triggers.ROUTES,
                   *executions.ROUTES, *runs.ROUTES)


def _not_emulated(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    raise ApiError(501, f"{request.method} {request.path} is part of Kestra's API but not emulated")


@functools.cache
def _router() -> Router:
    """Emulated routes, plus every other operation of the spec answering 501 (so it cannot pass unnoticed)."""
    spec = kestra_spec()
    covered = {(route.method, route.template) for route in EMULATED_ROUTES}
    others = [Route(method.upper(), template, _not_emulated)
              for template, operations in spec.document["paths"].items() for method in operations
              if method in ("get", "put", "post", "delete", "patch") and (method.upper(), template) not in covered]
    return Router((*EMULATED_ROUTES, *others), spec.document["paths"])


def parse_version(version: str) -> tuple[int, int, int]:
    """'1.1.0' -> (1, 1, 0); a wildcard or missing part counts as 0 ('1.x' -> (1, 0, 0))."""
    numbers = [int(part) if part.isdigit() else 0 for part in version.split(".")][:3]
    major, minor, patch = numbers + [0] * (3 - len(numbers))
    return major, minor, patch


class KestraEmulator:
    """Kestra (1.x by default, or 0.20) on 127.0.0.1:<free port>, with mandatory basic auth.

    State for assertions: `.flows`, `.kv`, `.namespace_files`, `.triggers`, `.executions`, `.logs`, `.requests`,
    `.write_count`, `.spec_violations` (must stay empty). Executions run (runs.py): one step per API request
    (`execution_mode="per-request"`) or per `advance_executions()` ("manual"), ending as `set_outcome` says.
    `fault_on(method, path)` limits faults to matching requests, `fault_limit` to that many.
    """

    def __init__(self, version: str = "1.1.0", username: str = "ops@example.com",
                 password: str = "Emul4torPassw0rd", latency_s: float = 0.0, fault_rate: float = 0.0,
                 seed: int = 0, faults: Iterable[str] = ("503", "lost"), retry_after_s: int | None = None,
                 backfill_mode: str = "sync", execution_mode: str = "per-request",
                 fault_on: Callable[[str, str], bool] | None = None, fault_limit: int | None = None) -> None:
        if backfill_mode not in ("sync", "manual"):
            raise ValueError("backfill_mode must be 'sync' or 'manual'")
        if execution_mode not in ("per-request", "manual"):
            raise ValueError("execution_mode must be 'per-request' or 'manual'")
        self.version = version
        self.state = EmulatorState(version=parse_version(version), backfill_mode=backfill_mode,
                                   execution_mode=execution_mode)
        self._credentials = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.latency_s = latency_s
        self.retry_after_s = retry_after_s
        self._faults = FaultPlan(fault_rate, faults, seed, only=fault_on, limit=fault_limit)
        self.requests: list[RecordedRequest] = []
        self.spec_violations: list[str] = []
        self._log_lock = threading.Lock()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> KestraEmulator:
        _router()  # parse the spec before the first request, not during it
        server = EmulatorHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="kestra-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KestraEmulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- state for assertions --------------------------------------------------------------------------------
    @property
    def flows(self) -> dict[tuple[str, str], list[str]]:
        with self.state.lock:
            return {key: list(flow.sources) for key, flow in self.state.flows.items() if not flow.deleted}

    @property
    def kv(self) -> dict[tuple[str, str], tuple[str, Any]]:
        with self.state.lock:
            return {key: (entry.type, entry.value) for key, entry in self.state.kv.items() if not entry.expired()}

    @property
    def namespace_files(self) -> dict[tuple[str, str], bytes]:
        with self.state.lock:
            return {key: stored.content for key, stored in self.state.files.items()}

    @property
    def triggers(self) -> dict[tuple[str, str, str], dict[str, Any] | None]:
        with self.state.lock:
            return {key: context.get("backfill") for key, context in self.state.triggers.items()}

    @property
    def executions(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [executions.summary(execution) for execution in self.state.executions]

    @property
    def write_count(self) -> int:
        return self.state.write_count

    @property
    def logs(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(entry) for entry in self.state.logs]

    def set_outcome(self, flow_id: str, outcome: runs.OutcomeRule) -> None:
        """How the flow's next executions end: an Outcome, or a function of the execution document giving one."""
        with self.state.lock:
            self.state.outcomes[flow_id] = outcome

    def advance_executions(self, steps: int = 1) -> None:
        """Move every unfinished execution on by `steps` steps (manual mode; per-request mode does one per request)."""
        with self.state.lock:
            runs.tick(self.state, steps)

    def run_scheduler(self, limit: int | None = None) -> int:
        """Advance backfills (manual mode): at most `limit` executions per backfill; returns how many were made."""
        with self.state.lock:
            return run_backfills(self.state, limit)

    # -- request processing (called from the server's threads) -------------------------------------------------
    def authorised(self, header: str | None) -> bool:
        return header == self._credentials

    def record(self, entry: RecordedRequest, violations: Iterable[str] = ()) -> None:
        with self._log_lock:
            self.requests.append(entry)
            self.spec_violations.extend(violations)

    def draw_fault(self, method: str, path: str) -> str | None:
        return self._faults.draw(method, path)

    def process(self, request: ApiRequest, unavailable: bool = False) -> tuple[ApiResponse, bool, list[str]]:
        """Answer an authenticated API request: (response, applied, spec violations).

        `unavailable` (an injected 503) still checks the request against the spec but applies nothing.
        """
        router = _router()
        violations: list[str] = []
        check = None
        try:
            tenant_path = router.tenant_form(request.path, self.state)
            resolved = router.resolve(request.method, tenant_path)
            request.path_params = resolved.path_params
            if resolved.route.handler is _not_emulated:
                violations.append(f"{request.method} {request.path}: not emulated (the client uses an operation "
                                  "the emulator does not serve)")
            check = kestra_spec().operation(resolved.route.template, request.method)
            found = check.check_request(request, resolved.path_params)
            violations.extend(f"request {violation.message}" for violation in found)
            rejecting = next((violation for violation in found if violation.status is not None), None)
            if rejecting is not None:
                raise ApiError(rejecting.status, rejecting.message)
            if unavailable:
                raise ApiError(503)
            response, applied = self._run_handler(resolved.route, request)
        except ApiError as error:
            response, applied = (self._unavailable() if unavailable else error.response()), False
        if check is not None:
            violations.extend(f"response {message}" for message in check.check_response(response))
        return response, applied, violations

    def _unavailable(self) -> ApiResponse:
        response = ApiResponse.json(503, {"message": "Service Unavailable"})
        if self.retry_after_s is not None:
            response.headers["Retry-After"] = str(self.retry_after_s)
        return response

    def _run_handler(self, route: Route, request: ApiRequest) -> tuple[ApiResponse, bool]:
        with self.state.lock:
            self.state.applied = False
            if self.state.execution_mode == "per-request":
                runs.tick(self.state)  # time passes between two requests: running executions move on
            try:
                response = route.handler(self.state, request)
            except ApiError as error:
                response = error.response()
            except Exception:  # an emulator bug must fail the test, not pass silently
                self.spec_violations.append(f"emulator error on {request.method} {request.path}:\n{traceback.format_exc()}")
                response = ApiResponse.json(500, {"message": "Internal Server Error (emulator)"})
            applied = self.state.applied
            if applied and self.state.backfill_mode == "sync":
                run_backfills(self.state)
            return response, applied
