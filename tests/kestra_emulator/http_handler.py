"""The HTTP side: reads requests, applies auth, latency and faults, hands API calls to the emulator."""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.kestra_emulator.http_types import ApiRequest, ApiResponse, RecordedRequest

if TYPE_CHECKING:
    from tests.kestra_emulator.server import KestraEmulator


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a timeout, an aborted retry) is normal traffic, not a server error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def handler_for(emulator: KestraEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_KestraRequestHandler):
        pass

    Handler.emulator = emulator
    return Handler


class _KestraRequestHandler(BaseHTTPRequestHandler):
    emulator: KestraEmulator
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: separate small writes stall on Nagle + delayed ACK (~40 ms).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server_version = "KestraEmulator"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        emulator = self.emulator
        path, _, raw_query = self.path.partition("?")
        body = self._read_body()
        if emulator.latency_s:
            time.sleep(emulator.latency_s)
        if path == "/ping" and self.command == "GET":
            self._send(ApiResponse(200, b"pong", "text/plain"))
            emulator.record(RecordedRequest(self.command, path, raw_query, 200, False))
            return
        if not emulator.authorised(self.headers.get("Authorization")):
            self._send(ApiResponse(401, headers={"WWW-Authenticate": "Basic"}))
            emulator.record(RecordedRequest(self.command, path, raw_query, 401, False))
            return
        fault = emulator.draw_fault(self.command, path)
        request = ApiRequest(self.command, path, ApiRequest.parse_query(raw_query), self.headers, body)
        response, applied, violations = emulator.process(request, unavailable=fault == "503")
        if fault == "lost":
            emulator.record(RecordedRequest(self.command, path, raw_query, None, applied, fault), violations)
            self.close_connection = True
            return
        self._send(response)
        emulator.record(RecordedRequest(self.command, path, raw_query, response.status, applied, fault), violations)

    def _send(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)
