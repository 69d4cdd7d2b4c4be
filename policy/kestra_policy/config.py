"""Per-policy configuration: a JSON schema whose defaults are the values used when a team sets nothing.

The same schema is what `pulumi preview --policy-pack-config FILE` validates a config file against, and
what `ops plan --policy-config FILE` validates with jsonschema, so a default lives in one place.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema


def schema(**properties: Mapping[str, Any]) -> PolicyConfigSchema:
    for key, prop in properties.items():
        if "default" not in prop:
            raise TypeError(f"config property {key} needs a default")
    return PolicyConfigSchema(properties={key: dict(prop) for key, prop in properties.items()})


def string_list(default: list[str], description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "default": default, "description": description}


def boolean(default: bool, description: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


def integer(default: int, description: str, minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "default": default, "description": description}


def setting(args: Any, config_schema: PolicyConfigSchema, key: str) -> Any:
    """The configured value of `key` for the policy being run, else the schema's default."""
    configured = args.get_config() or {}
    if key in configured:
        return configured[key]
    return config_schema.properties[key]["default"]
