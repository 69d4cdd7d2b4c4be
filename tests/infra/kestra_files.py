"""Kestra's configuration as the server reads it: its files merged key by key (Micronaut's property
sources; a later file's map extends an earlier one's, a list or scalar replaces it)."""

from __future__ import annotations


def merged_configuration(public: dict, secret: dict) -> dict:
    result = dict(public)
    for key, value in secret.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged_configuration(result[key], value)
        else:
            result[key] = value
    return result
