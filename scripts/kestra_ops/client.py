"""A Kestra REST client on httpx: version-aware paths, basic auth, timeouts, safe retries, typed errors.

No click in here: the CLI turns the typed errors into messages.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from kestra_ops.errors import KestraAuthError, KestraConnectionError, KestraError, KestraHTTPError
from kestra_ops.outputs import Connection
from kestra_ops.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_MESSAGE = 400


@dataclass(frozen=True)
class ServerInfo:
    version: str
    api: str  # the prefix of tenant-scoped paths: /api/v1/main (0.23+) or /api/v1 (0.20-0.22)


def release(version: str) -> tuple[int, int]:
    """(major, minor) of a version Kestra reports: 1.1.6, v0.20.7, 1.0.0-SNAPSHOT."""
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    if not match:
        raise KestraError(f"Kestra reported an unrecognised version {version!r}")
    return int(match.group(1)), int(match.group(2))


def api_prefix_for(version: str) -> str:
    major, minor = release(version)
    if (major, minor) < (0, 20):
        raise KestraError(f"Kestra {version} is not supported (0.20 or newer is)")
    return "/api/v1/main" if (major, minor) >= (0, 23) else "/api/v1"


@dataclass
class RequestStats:
    requests: int = 0
    writes: int = 0
    retries: int = 0


class KestraClient:
    """Paths given to the request methods are tenant-relative (`/flows/validate`) unless `raw=True`."""

    def __init__(
        self,
        connection: Connection,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        auth = (connection.username, connection.password) if connection.username else None
        self._http = httpx.Client(base_url=connection.url, auth=auth, timeout=timeout, transport=transport)
        self.url = connection.url
        self.retry = retry
        self.sleep = sleep
        self._rng = rng or random.Random()
        self._server: ServerInfo | None = None
        self.stats = RequestStats()

    def __enter__(self) -> KestraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- server --------------------------------------------------------------------------------------

    def ping(self) -> None:
        """One GET /ping, no retry: raises KestraConnectionError or KestraHTTPError when not healthy."""
        self._send_once("GET", "/ping", {})

    @property
    def server(self) -> ServerInfo:
        if self._server is None:
            version = self.get_json("/api/v1/configs", raw=True).get("version")
            if not isinstance(version, str):
                raise KestraError(f"GET {self.url}/api/v1/configs did not report a Kestra version")
            self._server = ServerInfo(version=version, api=api_prefix_for(version))
        return self._server

    def path(self, tenant_path: str) -> str:
        return self.server.api + tenant_path

    # -- requests --------------------------------------------------------------------------------------

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, raw: bool = False) -> httpx.Response:
        return self._request("GET", path if raw else self.path(path), {"params": params}, retry_safe=True)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, raw: bool = False) -> Any:
        response = self.get(path, params=params, raw=raw)
        try:
            return response.json()
        except ValueError:
            raise KestraError(f"GET {response.request.url}: expected JSON, got {response.text[:80]!r}") from None

    def get_or_none(self, path: str, *, params: Mapping[str, Any] | None = None) -> httpx.Response | None:
        """GET that turns 404 (and 410, an expired KV entry) into None."""
        try:
            return self.get(path, params=params)
        except KestraHTTPError as error:
            if error.status in (404, 410):
                return None
            raise

    def query(self, method: str, path: str, **request: Any) -> httpx.Response:
        """A request that changes nothing on the server although it is not a GET (e.g. POST /flows/validate)."""
        return self._request(method, self.path(path), request, retry_safe=True)

    def write(
        self,
        method: str,
        path: str,
        *,
        retry_safe: bool = False,
        applied: Callable[[], bool] | None = None,
        **request: Any,
    ) -> httpx.Response | None:
        """Send a write. A failure whose effect is unknown (lost response, 502/503/504) is retried only when
        `retry_safe` (repeating it converges: same content, delete) or after `applied()` says it did not land;
        returns None when `applied()` found the write already done."""
        response = self._request(method, self.path(path), request, retry_safe=retry_safe, applied=applied)
        self.stats.writes += 1
        return response

    def _request(
        self,
        method: str,
        path: str,
        request: dict[str, Any],
        *,
        retry_safe: bool,
        applied: Callable[[], bool] | None = None,
    ) -> httpx.Response | None:
        failed = 0
        while True:
            try:
                return self._send_once(method, path, request)
            except (KestraConnectionError, KestraHTTPError) as error:
                failed += 1
                if not self._retryable(error):
                    raise
                maybe_applied = not (
                    (isinstance(error, KestraConnectionError) and error.not_sent)
                    or (isinstance(error, KestraHTTPError) and error.status == 429)  # refused, not run
                )
                if maybe_applied and not retry_safe:
                    if applied is None:
                        raise
                    if applied():
                        return None
                if failed >= self.retry.attempts:
                    raise
                retry_after = error.retry_after if isinstance(error, KestraHTTPError) else None
                self.stats.retries += 1
                self.sleep(self.retry.delay(failed, retry_after, self._rng))

    @staticmethod
    def _retryable(error: KestraError) -> bool:
        return isinstance(error, KestraConnectionError) or (
            isinstance(error, KestraHTTPError) and error.status in RETRYABLE_STATUSES
        )

    def _send_once(self, method: str, path: str, request: dict[str, Any]) -> httpx.Response:
        self.stats.requests += 1
        try:
            response = self._http.request(method, path, **request)
        except httpx.TransportError as error:
            raise KestraConnectionError(
                method, self.url + path, _describe(error), not_sent=isinstance(error, NOT_SENT)
            ) from None
        if response.is_success:
            return response
        raise _status_error(method, response)


def _describe(error: httpx.TransportError) -> str:
    text = str(error).strip()
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    if "refused" in text.lower():
        return "connection refused"
    return text or type(error).__name__


def _status_error(method: str, response: httpx.Response) -> KestraHTTPError:
    url = str(response.request.url)
    if response.status_code == 401:
        return KestraAuthError(method, url)
    message, details = "", ()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = _one_line(body.get("message"))
        errors = (body.get("_embedded") or {}).get("errors") or []
        details = tuple(
            (_one_line(item.get("path")), _one_line(item.get("message")))
            for item in errors
            if isinstance(item, dict) and item.get("message") and _one_line(item.get("message")) != message
        )
    elif response.text.strip() and "html" not in response.headers.get("content-type", ""):
        message = _one_line(response.text)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return KestraHTTPError(method, url, response.status_code, message, details, retry_after)


def _one_line(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
