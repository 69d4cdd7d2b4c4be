"""Plain request/response values passed between the HTTP server, the spec validator and the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    status: int | None  # None: the connection was closed without a response
    applied: bool
    fault: str | None = None


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str | None:
        raw = self.headers.get("Content-Type")
        return raw.split(";", 1)[0].strip().lower() if raw else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def flag(self, name: str, default: bool) -> bool:
        value = self.arg(name)
        return default if value is None else value.lower() == "true"

    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    @staticmethod
    def parse_query(raw: str) -> dict[str, list[str]]:
        return parse_qs(raw, keep_blank_values=True)


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The JSON document behind `body`, kept so the spec check does not parse it again.
    document: Any = None

    @classmethod
    def json(cls, status: int, document: Any) -> ApiResponse:
        document = without_nulls(document)
        body = json.dumps(document, separators=(",", ":")).encode()
        return cls(status, body, "application/json", document=document)

    @classmethod
    def empty(cls, status: int) -> ApiResponse:
        return cls(status)

    @classmethod
    def binary(cls, data: bytes, filename: str | None = None) -> ApiResponse:
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
        return cls(200, data, "application/octet-stream", headers)


def without_nulls(document: Any) -> Any:
    """Kestra's JSON mapper omits null fields (serialization inclusion NON_NULL)."""
    if isinstance(document, dict):
        return {key: without_nulls(value) for key, value in document.items() if value is not None}
    if isinstance(document, list):
        return [without_nulls(item) for item in document]
    return document


def error_document(message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Kestra's (Micronaut's) JSON error shape."""
    document: dict[str, Any] = {"message": message}
    if errors:
        document["_embedded"] = {"errors": errors}
    return document


class ApiError(Exception):
    """Raised by a handler to answer with an error status, the way Kestra would."""

    def __init__(self, status: int, message: str = "", errors: list[dict[str, str]] | None = None,
                 empty_body: bool = False) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.empty_body = empty_body

    def response(self) -> ApiResponse:
        if self.empty_body:
            return ApiResponse.empty(self.status)
        return ApiResponse.json(self.status, error_document(self.message, self.errors))


def constraint_violation(path: str, message: str) -> ApiError:
    """Kestra's 422 for a ConstraintViolationException."""
    return ApiError(422, f"Invalid entity: {path}: {message}", [{"message": message, "path": path}])


def illegal_argument(message: str) -> ApiError:
    """Kestra answers an IllegalArgumentException with 422 "Illegal argument"."""
    return ApiError(422, f"Illegal argument: {message}")
