"""Instance endpoints: GET /api/v1/configs (the version clients use to pick their path prefix)."""

from __future__ import annotations

from tests.kestra_emulator.http_types import ApiRequest, ApiResponse
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState

INSTANCE_UUID = "5f0c3f4e-emulator-0000-000000000000"


def get_configuration(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    version = ".".join(str(part) for part in state.version)
    return ApiResponse.json(200, {
        "uuid": INSTANCE_UUID, "version": version, "edition": "OSS", "commitId": "emulator",
        "commitDate": "2025-01-01T00:00:00Z", "isTemplateEnabled": False, "isAnonymousUsageEnabled": False,
        "isUiAnonymousUsageEnabled": False, "isBasicAuthInitialized": True, "systemNamespace": "system",
        "hiddenLabelsPrefixes": [],
    })


ROUTES = (Route("GET", "/api/v1/configs", get_configuration),)
