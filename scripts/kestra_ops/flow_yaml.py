"""YAML loading that remembers line numbers (1-based) and rejects duplicate keys."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping with `.line` (where it starts) and `.lines[key]` (where each key is)."""

    line: int = 1
    lines: dict[Any, int]


class LineList(list):
    line: int = 1
    lines: list[int]


class LineLoader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in result
        except TypeError:
            raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if duplicate:
            raise ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {result.lines[key]})", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class YamlProblem(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def load_documents(text: str) -> list[Any]:
    """All documents of a YAML stream; raises YamlProblem(line, reason) on invalid YAML."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=LineLoader) if doc is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise YamlProblem(line, reason or "invalid YAML") from None
    except yaml.YAMLError as error:
        raise YamlProblem(1, str(error).splitlines()[0]) from None


def load_plain(text: str) -> Any:
    """A fast load without line tracking, for sources read back from the server."""
    return yaml.load(text, Loader=_Base)
