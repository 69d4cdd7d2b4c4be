"""multipart/form-data request bodies, parsed with the standard library's MIME parser."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from tests.kestra_emulator.http_types import ApiRequest


class MultipartError(ValueError):
    pass


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content: bytes


def parse_multipart(request: ApiRequest) -> list[Part]:
    content_type = request.headers.get("Content-Type", "")
    if "boundary=" not in content_type:
        raise MultipartError("multipart body without a boundary")
    envelope = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + request.body
    message = BytesParser(policy=policy.HTTP).parsebytes(envelope)
    if not message.is_multipart():
        raise MultipartError("malformed multipart body")
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise MultipartError("a multipart part has no name")
        content = part.get_payload(decode=True) or b""
        parts.append(Part(str(name), part.get_filename(), content))
    return parts
