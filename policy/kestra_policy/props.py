"""Reading resource properties without tripping over a preview's unknowns or missing keys.

Under the engine, properties arrive wrapped in pulumi_policy's unknown-checking proxy: reading a value
the engine cannot know yet raises UnknownValueError. Offline plans hold plain dicts, where an unknown
can appear as one of the engine's sentinel strings. Rules read everything through `get`/`elements`, which
turn both into UNKNOWN, so a rule decides explicitly what an unknown means instead of crashing.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import proxy
from pulumi_policy.proxy import UnknownValueError

_SENTINELS = frozenset({
    proxy.UNKNOWN_BOOLEAN_VALUE,
    proxy.UNKNOWN_NUMBER_VALUE,
    proxy.UNKNOWN_STRING_VALUE,
    proxy.UNKNOWN_ARRAY_VALUE,
    proxy.UNKNOWN_ASSET_VALUE,
    proxy.UNKNOWN_ARCHIVE_VALUE,
    proxy.UNKNOWN_OBJECT_VALUE,
})


class _Unknown:
    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown until apply>"


UNKNOWN: Any = _Unknown()


def _known(value: Any) -> Any:
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def _child(container: Any, key: str | int) -> Any:
    try:
        if isinstance(key, int):
            if isinstance(container, (str, bytes)) or not isinstance(container, Sequence):
                return None
            return _known(container[key]) if -len(container) <= key < len(container) else None
        if not isinstance(container, Mapping):
            return None
        return _known(container[key])
    except KeyError:
        return None
    except UnknownValueError:
        return UNKNOWN


def get(value: Any, *path: str | int) -> Any:
    """The value at `path` inside `value`; None when absent or of another shape, UNKNOWN when unknown."""
    current = _known(value)
    for key in path:
        if current is None or current is UNKNOWN:
            return current
        current = _child(current, key)
    return current


def elements(value: Any) -> list[Any]:
    """The items of a list property (each possibly UNKNOWN); [] for a missing or non-list value."""
    value = _known(value)
    if value is None or value is UNKNOWN or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [_child(value, index) for index in range(len(value))]


def entries(value: Any) -> list[tuple[str, Any]]:
    """The (key, value) pairs of a map property (values possibly UNKNOWN); [] when not a map."""
    value = _known(value)
    if not isinstance(value, Mapping):
        return []
    return [(key, _child(value, key)) for key in list(value)]


def metadata_texts(instance_props: Any) -> list[tuple[str, str]]:
    """(where, text) of an instance's startup script and metadata values known as strings: what anyone with
    compute.instances.get reads, and where the VM target puts its compose file."""
    texts = [("metadataStartupScript", get(instance_props, "metadataStartupScript"))]
    texts += [(f"metadata.{key}", value) for key, value in entries(get(instance_props, "metadata"))]
    return [(where, text) for where, text in texts if isinstance(text, str)]


def strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every known string nested in `value`, with its path."""
    value = _known(value)
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in entries(value):
            yield from strings(child, (*path, key))
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for index, child in enumerate(elements(value)):
            yield from strings(child, (*path, index))


def as_bool(value: Any) -> bool | None | Any:
    """True/False for booleans (and their string forms), UNKNOWN for unknowns, None otherwise."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_int(value: Any) -> int | None | Any:
    """Ports and sizes come back from the engine as floats or strings; normalise them."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
