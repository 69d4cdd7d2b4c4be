"""Stack outputs (the contract with infra, see DESIGN.md) and the connection settings derived from them.

`--stack NAME` runs `pulumi stack output --json --show-secrets --stack NAME`; `--outputs FILE` reads the
same JSON. Flags and environment (merged by click beforehand) override the outputs' connection values.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kestra_ops.errors import OutputsError

KV_KEY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
LABEL_KEY = re.compile(r"^[a-z][a-zA-Z0-9._-]*$")
BACKFILL_KEYS = {"flow_id", "trigger_id", "start", "end", "inputs", "labels"}
MIN_SECRET_KV_VALUE = 16  # keys, tokens and key ids are longer; see StackOutputs.secret_values
# The KV keys infra sets only with the data lake (gcpProject set, infra/__main__.py); the contract test
# tests/ops/test_stack_contract.py holds the two sides together.
DATA_LAKE_KV_KEYS = frozenset({"GCP_PROJECT_ID", "GCP_LOCATION", "GCP_BUCKET_NAME", "GCP_DATASET", "GCP_CREDS"})


@dataclass(frozen=True)
class BackfillSpec:
    flow_id: str
    trigger_id: str
    start: datetime
    end: datetime
    inputs: Mapping[str, Any] = field(default_factory=dict)
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StackOutputs:
    source: str
    kestra_url: str | None = None
    kestra_username: str | None = None
    kestra_password: str | None = None
    kestra_namespace: str | None = None
    kestra_kv: Mapping[str, Any] | None = None
    kestra_backfills: tuple[BackfillSpec, ...] = ()

    def secret_values(self) -> list[str]:
        """Every string that must never be printed: the password, and each KV value (its JSON form and its
        string leaves) long enough to be secret material. Short KV values are names the output itself uses
        (GCP_DATASET `zoomcamp` is also the namespace, TAXI_POSTGRES's user `taxi` is in flow ids):
        masking them would garble every line without protecting anything."""
        kv_strings = []
        for value in (self.kestra_kv or {}).values():
            kv_strings.append(value if isinstance(value, str) else json.dumps(value))
            kv_strings.extend(_string_leaves(value))
        secrets = [self.kestra_password] if self.kestra_password else []
        return secrets + [s for s in kv_strings if len(s) >= MIN_SECRET_KV_VALUE]


@dataclass(frozen=True)
class Connection:
    url: str
    username: str | None
    password: str | None = field(repr=False)


def load_outputs(stack: str | None, outputs_file: Path | None) -> StackOutputs | None:
    if stack:
        return parse_outputs(_pulumi_stack_output(stack), f"stack {stack}")
    if outputs_file:
        try:
            raw = json.loads(outputs_file.read_text(encoding="utf-8"))
        except OSError as error:
            raise OutputsError(f"{outputs_file}: cannot read: {error.strerror or error}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise OutputsError(f"{outputs_file}: not valid JSON ({_json_error(error)})") from None
        return parse_outputs(raw, str(outputs_file))
    return None


def _json_error(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno} column {error.colno}: {error.msg}"
    return "not UTF-8"


def _pulumi_stack_output(stack: str) -> Any:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "--stack needs the pulumi CLI, which is not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "or pass --outputs FILE with the JSON of `pulumi stack output --json --show-secrets`"
        )
    command = [pulumi, "stack", "output", "--json", "--show-secrets", "--stack", stack]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise OutputsError(f"`pulumi stack output --stack {stack}` did not finish within 120 s") from None
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no error message"])[-1]
        raise OutputsError(f"`pulumi stack output --stack {stack}` failed (exit {done.returncode}): {last_line}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise OutputsError(f"`pulumi stack output --stack {stack}` printed invalid JSON ({_json_error(error)})") from None


def parse_outputs(raw: Any, source: str) -> StackOutputs:
    """Check the outputs against the contract; an error names the output key and the reason."""

    def fail(key: str, reason: str) -> OutputsError:
        return OutputsError(f"{source}: {key}: {reason}")

    if not isinstance(raw, dict):
        raise OutputsError(f"{source}: stack outputs must be a JSON object of output name to value")

    def optional_string(key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise fail(key, "must be a non-empty string")
        return value

    url = optional_string("kestra_url")
    if url is not None:
        check_url(url, lambda reason: fail("kestra_url", reason))
    namespace = optional_string("kestra_namespace")
    if namespace is not None and not NAMESPACE.match(namespace):
        raise fail("kestra_namespace", f"{namespace!r} is not a Kestra namespace (lower case, digits, . _ -)")

    kv = raw.get("kestra_kv")
    if kv is not None:
        if not isinstance(kv, dict):
            raise fail("kestra_kv", "must be a map of KV key to JSON value")
        for key, value in kv.items():
            if not KV_KEY.match(key):
                raise fail(f"kestra_kv.{key}", "not a valid KV key (letters, digits, . _ -, not starting with . _ -)")
            if value is None:
                raise fail(f"kestra_kv.{key}", "must not be null")

    backfills = raw.get("kestra_backfills")
    if backfills is None:
        backfills = []
    if not isinstance(backfills, list):
        raise fail("kestra_backfills", "must be a list of {flow_id, trigger_id, start, end, inputs?, labels?}")
    return StackOutputs(
        source=source,
        kestra_url=url,
        kestra_username=optional_string("kestra_username"),
        kestra_password=optional_string("kestra_password"),
        kestra_namespace=namespace,
        kestra_kv=kv,
        kestra_backfills=tuple(_parse_backfill(entry, f"kestra_backfills[{i}]", fail) for i, entry in enumerate(backfills)),
    )


def _parse_backfill(entry: Any, key: str, fail) -> BackfillSpec:
    if not isinstance(entry, dict):
        raise fail(key, "must be an object {flow_id, trigger_id, start, end, inputs?, labels?}")
    unknown = sorted(set(entry) - BACKFILL_KEYS)
    if unknown:
        raise fail(f"{key}.{unknown[0]}", "unknown field (expected flow_id, trigger_id, start, end, inputs, labels)")
    for name in ("flow_id", "trigger_id"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise fail(f"{key}.{name}", "required, a non-empty string")
    start = _parse_datetime(entry.get("start"), lambda reason: fail(f"{key}.start", reason))
    end = _parse_datetime(entry.get("end"), lambda reason: fail(f"{key}.end", reason))
    if end <= start:
        raise fail(f"{key}.end", f"must be after start ({entry['start']})")
    inputs = entry.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise fail(f"{key}.inputs", "must be a map of input name to value")
    return BackfillSpec(
        flow_id=entry["flow_id"],
        trigger_id=entry["trigger_id"],
        start=start,
        end=end,
        inputs=inputs,
        labels=_parse_labels(entry.get("labels"), lambda reason: fail(f"{key}.labels", reason)),
    )


def _parse_datetime(value: Any, fail) -> datetime:
    if not isinstance(value, str):
        raise fail("required, an ISO-8601 date-time such as 2019-01-01T00:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise fail(f"{value!r} is not an ISO-8601 date-time such as 2019-01-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise fail(f"{value!r} has no UTC offset; write it as e.g. {value}Z")
    return parsed


def _parse_labels(value: Any, fail) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(item, dict) and set(item) == {"key", "value"} for item in value):
        pairs = [(item["key"], item["value"]) for item in value]
    else:
        raise fail("must be a map of label key to value (or a list of {key, value})")
    for label_key, label_value in pairs:
        if not isinstance(label_key, str) or not LABEL_KEY.match(label_key):
            raise fail(f"label key {label_key!r} must start with a lower-case letter (letters, digits, . _ -)")
        if not isinstance(label_value, str) or not label_value:
            raise fail(f"label {label_key!r} must have a non-empty string value")
    return tuple(pairs)


def check_url(url: str, fail) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise fail("must not carry credentials; use the username and password settings")


def resolve_connection(
    outputs: StackOutputs | None, url: str | None, username: str | None, password: str | None
) -> Connection:
    """Flags and environment (already merged into url/username/password by click) win over the outputs."""
    url = url or (outputs.kestra_url if outputs else None)
    if not url:
        raise OutputsError("no Kestra URL: pass --url, set KESTRA_URL, or give --stack/--outputs with kestra_url")
    check_url(url, lambda reason: OutputsError(f"Kestra URL: {reason}"))
    username = username or (outputs.kestra_username if outputs else None)
    password = password or (outputs.kestra_password if outputs else None)
    if bool(username) != bool(password):
        missing = "password (--password, KESTRA_PASSWORD or kestra_password)" if username else "username"
        raise OutputsError(f"Kestra credentials: a username needs a password and vice versa; missing the {missing}")
    return Connection(url=url.rstrip("/"), username=username, password=password)


def _string_leaves(value: Any) -> list[str]:
    """Every string in the value, and each line of a multi-line one (a task that logs a PEM key prints it
    line by line)."""
    if isinstance(value, str):
        lines = [line.strip() for line in value.splitlines()] if "\n" in value else []
        return [value, *lines]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _string_leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _string_leaves(v)]
    return []
