"""Routes (spec path template -> handler) and the tenancy rules that map a request path onto a template."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse
from tests.kestra_emulator.state import EmulatorState

Handler = Callable[[EmulatorState, ApiRequest], ApiResponse]
API_PREFIX = "/api/v1/"
TENANT_PREFIX = "/api/v1/{tenant}/"


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, compare=False)
    literal_segments: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        segments = self.template.strip("/").split("/")
        regex = "/".join(f"(?P<{s[1:-1]}>[^/]+)" if s.startswith("{") else re.escape(s) for s in segments)
        object.__setattr__(self, "pattern", re.compile(f"^/{regex}$"))
        object.__setattr__(self, "literal_segments", sum(not s.startswith("{") for s in segments))


@dataclass(frozen=True)
class Resolved:
    route: Route
    path_params: dict[str, str]


class Router:
    def __init__(self, routes: Iterable[Route], spec_templates: Iterable[str]) -> None:
        self.routes = tuple(routes)
        self.global_routes = tuple(route for route in self.routes if "{tenant}" not in route.template)
        # Routes by segment count: a path is only matched against templates of its own length.
        self.by_length: dict[int, list[Route]] = {}
        for route in self.routes:
            self.by_length.setdefault(route.template.count("/"), []).append(route)
        # First segments after the tenant (flows, executions, namespaces, ...): an untenanted path starts with one.
        self.resources = frozenset(t[len(TENANT_PREFIX):].split("/", 1)[0] for t in spec_templates
                                   if t.startswith(TENANT_PREFIX))

    def tenant_form(self, path: str, state: EmulatorState) -> str:
        """The request path in the spec's tenant form, or an ApiError the way the real version answers."""
        if not path.startswith(API_PREFIX):
            raise ApiError(404, "Not Found")
        first = path[len(API_PREFIX):].split("/", 1)[0]
        if first in self.resources:
            # 0.20-0.22 only know these paths; 1.x still serves them as tenant `main` (compatibility layer).
            return API_PREFIX + "main/" + path[len(API_PREFIX):]
        if not any(route.pattern.match(path) for route in self.global_routes):
            if not state.tenanted:
                raise ApiError(404, "Not Found")
            if first != "main":
                raise ApiError(400, f"Tenant '{first}' does not exist: only the tenant 'main' is available in Kestra OSS")
        return path

    def resolve(self, method: str, path: str) -> Resolved:
        candidates = [route for route in self.by_length.get(path.count("/"), ()) if route.pattern.match(path)]
        if not candidates:
            raise ApiError(404, "Not Found")
        allowed = [route for route in candidates if route.method == method]
        if not allowed:
            raise ApiError(405, "Method Not Allowed")
        route = max(allowed, key=lambda r: r.literal_segments)
        match = route.pattern.match(path)
        assert match is not None
        return Resolved(route, {name: unquote(value) for name, value in match.groupdict().items()})
