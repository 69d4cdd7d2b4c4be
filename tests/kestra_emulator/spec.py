"""Kestra's OpenAPI spec as the emulator's contract: every request and response is checked against it.

The spec is parsed once per process and each operation's checks are compiled once, on first use, with
openapi-schema-validator (the schema engine openapi-core uses). openapi-core's own request/response
validation measured ~2 ms per request (it matches the path against the whole spec) and ~12 ms for a page
of 50 flows; here routing is the emulator's own, component `$ref`s are inlined once, and a verdict on a
document already seen is reused, so a check costs tens of µs (`benchmarks/emulator_throughput.py`).

The generated spec has artefacts of its Java origin that the real server does not share; these are
normalised, each for a stated reason, and nothing else is loosened:
- `\\p{Ll}` / `\\p{L}` in patterns (Java regex) become ASCII classes: Python's `re` has no Unicode properties.
- A schema that is just `{type: object}` is a Java `Object` field: Kestra serialises any JSON value there
  (a KV value can be a string). `additionalProperties: false` on an object without properties is a Java
  `Map` (flow `variables`): Kestra returns its entries.
- `Property_*` schemas describe Kestra's `Property<T>`, which serialises as the plain value or expression
  (an input's `defaults: yellow` comes back as the string).
- A query parameter with a default value, or a list (Micronaut binds a missing list as empty), is optional
  even where the spec says `required: true` (e.g. `page`, `filters`, `source`).
- Errata from Kestra's controllers: `setKeyValue` consumes `application/json` as well as `text/plain`
  (KVController `@Put(consumes = {APPLICATION_JSON, TEXT_PLAIN})`); the spec lists only the last.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.kestra_emulator.http_types import ApiRequest, ApiResponse
from tests.kestra_emulator.multipart import MultipartError, parse_multipart

SPEC_FILE = Path(__file__).resolve().parents[1] / "data" / "kestra-openapi.yml"
SPEC_URI = "urn:kestra-openapi"
_BODY_STATUS_UNSUPPORTED_MEDIA_TYPE = 415


@dataclass(frozen=True)
class Violation:
    message: str
    # The status real Kestra answers with for this violation; None when it would serve the request anyway.
    status: int | None


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _normalise(node: Any, union_member: bool = False) -> Any:
    if isinstance(node, dict):
        node = {key: _normalise(value, key in ("oneOf", "anyOf")) for key, value in node.items()}
        if isinstance(node.get("pattern"), str):
            node["pattern"] = node["pattern"].replace(r"\p{Ll}", "a-z").replace(r"\p{L}", "A-Za-z")
        shape_keys = {"properties", "additionalProperties", "allOf", "oneOf", "anyOf", "items", "$ref"}
        # In a oneOf/anyOf, `{type: object}` tells the alternatives apart and must stay.
        if node.get("type") == "object" and not shape_keys & node.keys() and not union_member:
            del node["type"]
        if node.get("additionalProperties") is False and "properties" not in node:
            del node["additionalProperties"]
        return node
    if isinstance(node, list):
        return [_normalise(item, union_member) for item in node]
    return node


def _inline_schema_refs(document: dict[str, Any]) -> None:
    """Replace each `{$ref: #/components/schemas/X}` by X itself (shared, so recursive schemas become cycles).

    A `$ref` resolved at validation time costs a pointer walk on every use; an object reference costs nothing.
    """
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    seen: set[int] = set()
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            if isinstance(child, dict) and str(child.get("$ref", "")).startswith(prefix):
                child = node[key] = schemas[child["$ref"][len(prefix):]]
            if isinstance(child, dict | list):
                pending.append(child)


def _plain_properties(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in schemas:
        if name.startswith("Property_"):
            schemas[name] = {}


def _optional_parameters(document: dict[str, Any]) -> None:
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and ("default" in schema or schema.get("type") == "array"):
                    parameter["required"] = False


def _errata(document: dict[str, Any]) -> None:
    kv_put = document["paths"]["/api/v1/{tenant}/namespaces/{namespace}/kv/{key}"]["put"]
    kv_put["requestBody"]["content"]["application/json"] = {"schema": {"type": "string"}}


@functools.cache
def kestra_spec() -> KestraSpec:
    """The normalised spec, parsed once per process."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = _normalise(yaml.load(SPEC_FILE.read_text(encoding="utf-8"), Loader=loader))
    _plain_properties(document)
    _optional_parameters(document)
    _errata(document)
    _inline_schema_refs(document)
    return KestraSpec(document)


class KestraSpec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry = Registry().with_resource(SPEC_URI, Resource.from_contents(document, default_specification=DRAFT4))
        self._operations: dict[tuple[str, str], OperationCheck] = {}

    def operation(self, template: str, method: str) -> OperationCheck:
        key = (template, method.lower())
        check = self._operations.get(key)
        if check is None:
            check = self._operations[key] = OperationCheck(self, template, method.lower())
        return check

    def validator(self, pointer: str, *, response: bool) -> Any:
        """A validator rooted at the schema at `pointer`, resolving its `#/components/...` refs in the spec.

        The pointer is resolved here, once: a `{"$ref": pointer}` root would walk the long path on every call.
        """
        cls = OAS30ReadValidator if response else OAS30WriteValidator
        resolved = self.registry.resolver().lookup(f"{SPEC_URI}#/{pointer}")
        return cls(resolved.contents, registry=self.registry, format_checker=cls.FORMAT_CHECKER,
                   _resolver=resolved.resolver)


# Verdicts by (validator, exact JSON bytes): validation is a pure function of both, and clients repeat
# requests (a re-run reads the same flows, pages and exports), so a repeated document is checked once.
_VERDICTS: dict[tuple[int, bytes], tuple[str, ...]] = {}
_VERDICTS_MAX = 4096


def _json_errors(validator: Any, raw: bytes, document: Any, where: str) -> list[str]:
    key = (id(validator), raw)
    verdict = _VERDICTS.get(key)
    if verdict is None:
        if len(_VERDICTS) >= _VERDICTS_MAX:
            _VERDICTS.clear()
        verdict = _VERDICTS[key] = tuple(_schema_errors(validator, document, ""))
    return [f"{where}{message}" for message in verdict]


def _schema_errors(validator: Any, instance: Any, where: str) -> list[str]:
    errors = []
    for error in validator.iter_errors(instance):
        location = "/".join(str(part) for part in error.absolute_path) or "(root)"
        errors.append(f"{where} {location}: {error.message[:300]}")
        if len(errors) == 3:
            break
    return errors


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(raw)
        return raw.lower() == "true"
    return raw


class OperationCheck:
    """The compiled checks of one operation (one path template and method)."""

    def __init__(self, spec: KestraSpec, template: str, method: str) -> None:
        operation = spec.document["paths"][template][method]
        base = _pointer("paths", template, method)
        self.name = f"{operation.get('operationId', method)} ({method.upper()} {template})"
        self.parameters = []
        for index, parameter in enumerate(operation.get("parameters", [])):
            validator = spec.validator(f"{base}/parameters/{index}/schema", response=False)
            self.parameters.append((parameter, validator))
        body = operation.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body_media = {}
        for media_type in (body or {}).get("content", {}):
            pointer = f"{base}/requestBody/content/{_pointer(media_type)}/schema"
            self.body_media[media_type] = (body["content"][media_type].get("schema", {}), spec.validator(pointer, response=False))
        self.responses: dict[str, dict[str, Any]] = {}
        for status, declared in operation.get("responses", {}).items():
            media = {}
            for media_type in declared.get("content", {}):
                pointer = f"{base}/responses/{status}/content/{_pointer(media_type)}/schema"
                media[media_type] = spec.validator(pointer, response=True)
            self.responses[status] = media

    def check_request(self, request: ApiRequest, path_params: dict[str, str]) -> list[Violation]:
        violations = []
        for parameter, validator in self.parameters:
            violations.extend(self._check_parameter(parameter, validator, request, path_params))
        violations.extend(self._check_body(request))
        return violations

    def _check_parameter(self, parameter: dict[str, Any], validator: Any, request: ApiRequest,
                         path_params: dict[str, str]) -> list[Violation]:
        name, location = parameter["name"], parameter["in"]
        schema = parameter.get("schema", {})
        if location == "path":
            raw_values = [path_params[name]] if name in path_params else []
        elif location == "query":
            raw_values = request.query.get(name, [])
        elif location == "header":
            raw_values = request.headers.get_all(name) or []
        else:
            return []
        if not raw_values:
            if parameter.get("required"):
                return [Violation(f"{self.name}: missing required {location} parameter '{name}'", 400)]
            return []
        try:
            if schema.get("type") == "array":
                if parameter.get("explode", True) is False:
                    raw_values = [item for value in raw_values for item in value.split(",")]
                value: Any = [_coerce(raw, schema.get("items", {})) for raw in raw_values]
            else:
                value = _coerce(raw_values[0], schema)
        except ValueError:
            return [Violation(f"{self.name}: {location} parameter '{name}' is not a valid {schema.get('type')}: {raw_values!r}", 400)]
        errors = _schema_errors(validator, value, f"{self.name}: {location} parameter '{name}'")
        return [Violation(message, 400) for message in errors]

    def _check_body(self, request: ApiRequest) -> list[Violation]:
        if not self.body_media:
            return []
        if not request.body:
            return [Violation(f"{self.name}: a request body is required", 400)] if self.body_required else []
        media_type = request.content_type
        if media_type not in self.body_media:
            accepted = ", ".join(sorted(self.body_media))
            return [Violation(f"{self.name}: Content-Type {media_type!r} is not one of {accepted}",
                              _BODY_STATUS_UNSUPPORTED_MEDIA_TYPE)]
        schema, validator = self.body_media[media_type]
        where = f"{self.name}: request body"
        if media_type == "application/json" and schema.get("type") != "string":
            try:
                document = json.loads(request.body)
            except ValueError as error:
                return [Violation(f"{where} is not JSON: {error}", 400)]
            return [Violation(message, None) for message in _json_errors(validator, request.body, document, where)]
        if media_type == "multipart/form-data":
            try:
                parts = parse_multipart(request)
            except MultipartError as error:
                return [Violation(f"{where}: {error}", 400)]
            if schema.get("type") != "object":
                return []
            fields = {part.name: part.content.decode("latin-1") for part in parts}
            return [Violation(message, None) for message in _schema_errors(validator, fields, where)]
        try:
            request.body.decode("utf-8")
        except UnicodeDecodeError:
            return [Violation(f"{where} is not UTF-8 text", 400)]
        return []

    def check_response(self, response: ApiResponse) -> list[str]:
        declared = self.responses.get(str(response.status), self.responses.get("default"))
        where = f"{self.name}: response {response.status}"
        if declared is None:
            return [] if response.status >= 400 else [f"{where} is not declared by the spec"]
        if not declared:
            # Error bodies (Kestra's JSON error) are never described by the spec.
            return [f"{where} has a body the spec does not declare"] if response.body and response.status < 400 else []
        if response.content_type not in declared:
            return [f"{where} Content-Type {response.content_type!r} is not one of {', '.join(sorted(declared))}"]
        if response.content_type == "application/json":
            document = response.document if response.document is not None else json.loads(response.body)
            return _json_errors(declared[response.content_type], response.body, document, where)
        return []
