"""The checks a real Kestra server makes on a flow source (parse, ids, tasks, inputs, triggers, cron)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from tests.kestra_emulator.spec import kestra_spec

FLOW_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
INPUT_ID = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")
TASK_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
PLUGIN_TYPE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")
# Kestra 1.0 reserves these flow ids: they collide with the UI's and API's own routes.
RESERVED_FLOW_IDS = frozenset({"pause", "resume", "force-run", "change-status", "kill", "executions", "search",
                               "source", "disable", "enable"})
SCHEDULE_TYPES = frozenset({"io.kestra.plugin.core.trigger.Schedule", "io.kestra.core.models.triggers.types.Schedule"})
# The plugin types the emulated server has installed: the ones this project's flows and tests use, each
# a type of the pinned Kestra's plugins (kestra.io/plugins). A real server refuses a flow naming a type
# no installed plugin provides, so a misspelt type must fail here too; a flow that starts using another
# plugin adds its type here.
KNOWN_PLUGIN_TYPES = SCHEDULE_TYPES | frozenset({
    "io.kestra.plugin.core.execution.Fail", "io.kestra.plugin.core.execution.Labels", "io.kestra.plugin.core.flow.If",
    "io.kestra.plugin.core.flow.Parallel", "io.kestra.plugin.core.flow.Sequential", "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.plugin.core.flow.Switch", "io.kestra.plugin.core.flow.WorkingDirectory", "io.kestra.plugin.core.http.Download",
    "io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.runner.Process", "io.kestra.plugin.core.trigger.Webhook",
    "io.kestra.plugin.dbt.cli.DbtCLI", "io.kestra.plugin.gcp.bigquery.Query", "io.kestra.plugin.gcp.gcs.List",
    "io.kestra.plugin.gcp.gcs.Upload", "io.kestra.plugin.git.Clone", "io.kestra.plugin.jdbc.duckdb.Query",
    "io.kestra.plugin.jdbc.postgresql.CopyIn", "io.kestra.plugin.jdbc.postgresql.Queries",
    "io.kestra.plugin.jdbc.postgresql.Query", "io.kestra.plugin.scripts.python.Script",
    "io.kestra.plugin.scripts.runner.docker.Docker", "io.kestra.plugin.scripts.shell.Commands",
})
CRON_NICKNAMES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
# Keys under which a task holds child tasks (flowable tasks and the flow's own error/finally branches).
CHILD_TASK_KEYS = ("tasks", "then", "else", "errors", "finally", "afterExecution", "default")
# The properties of Kestra's Flow model; any other top-level key is rejected ("Unrecognized field").
FLOW_PROPERTIES = frozenset({"afterExecution", "checks", "concurrency", "deleted", "description", "disabled", "errors",
                             "finally", "id", "inputs", "labels", "listeners", "namespace", "outputs",
                             "pluginDefaults", "retry", "revision", "sla", "taskDefaults", "tasks", "triggers",
                             "variables", "workerGroup"})
# Kestra 0.20's model (Flow.java, AbstractFlow.java and Input.java's @JsonSubTypes at tag v0.20.7): no
# `finally` (0.21) nor `afterExecution`, no BOOL input (0.22). Its parser names an unknown input type
# "Invalid type: X" (YamlParser: InvalidTypeIdException).
FLOW_PROPERTIES_0_20 = FLOW_PROPERTIES - {"afterExecution", "checks", "finally", "workerGroup"}
INPUT_TYPES_0_20 = frozenset({"ARRAY", "BOOLEAN", "DATE", "DATETIME", "DURATION", "EMAIL", "ENUM", "FILE", "FLOAT",
                              "INT", "JSON", "MULTISELECT", "SECRET", "SELECT", "STRING", "TIME", "URI", "YAML"})
MODEL_0_21 = (0, 21, 0)  # the emulator models 0.20.7 below this version and 1.x from it


@dataclass(frozen=True)
class ParsedFlow:
    source: str
    document: dict[str, Any]
    violations: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return str(self.document.get("id", ""))

    @property
    def namespace(self) -> str:
        return str(self.document.get("namespace", ""))

    def message(self) -> str:
        return ", ".join(f"{path}: {message}" for path, message in self.violations)


def parse_flow(source: str, *, version: tuple[int, int, int]) -> ParsedFlow:
    """`version`: the emulated server's; it picks the model (0.20.7's before 0.21) and the 1.0 reserved ids."""
    try:
        # libyaml's loader: the real server's parser is native too, and the emulator's parse time
        # must not dominate the benchmarks it serves.
        document = yaml.load(source, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        return ParsedFlow(source, {}, (("flow", f"Invalid YAML: {error}"),))
    if not isinstance(document, dict):
        return ParsedFlow(source, {}, (("flow", "Invalid flow: the source is not a YAML mapping"),))
    return ParsedFlow(source, document, tuple(flow_violations(document, version=version)))


def flow_violations(flow: dict[str, Any], *, version: tuple[int, int, int]) -> list[tuple[str, str]]:
    properties = FLOW_PROPERTIES if version >= MODEL_0_21 else FLOW_PROPERTIES_0_20
    violations: list[tuple[str, str]] = [(str(key), f'Unrecognized field "{key}"')
                                         for key in flow if key not in properties]
    flow_id, namespace = flow.get("id"), flow.get("namespace")
    if not isinstance(flow_id, str) or not flow_id:
        violations.append(("id", "must not be null"))
    elif not FLOW_ID.match(flow_id) or len(flow_id) > 100:
        violations.append(("id", f"must match \"{FLOW_ID.pattern}\""))
    elif version >= (1, 0, 0) and flow_id in RESERVED_FLOW_IDS:
        violations.append(("id", f"'{flow_id}' is a reserved flow id"))
    if not isinstance(namespace, str) or not namespace:
        violations.append(("namespace", "must not be null"))
    elif not NAMESPACE.match(namespace) or len(namespace) > 150:
        violations.append(("namespace", f"must match \"{NAMESPACE.pattern}\""))
    tasks = flow.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        violations.append(("tasks", "must not be empty"))
    seen: dict[str, int] = {}
    for key in ("tasks", "errors", "finally", "afterExecution"):
        _walk_tasks(flow.get(key), key, seen, violations)
    duplicates = sorted(task_id for task_id, count in seen.items() if count > 1)
    if duplicates:
        violations.append(("tasks", f"Duplicate task id with name [{', '.join(duplicates)}]"))
    violations.extend(_input_violations(flow.get("inputs"), version))
    violations.extend(_trigger_violations(flow.get("triggers")))
    return violations


@functools.cache
def _input_types() -> frozenset[str]:
    return frozenset(kestra_spec().document["components"]["schemas"]["Type"]["enum"])


def _input_violations(inputs: Any, version: tuple[int, int, int]) -> list[tuple[str, str]]:
    """Kestra's Input model: an id matching its pattern, a type of its `Type` enum, ids unique."""
    violations: list[tuple[str, str]] = []
    seen: set[str] = set()
    for where, declared in _declared_objects(inputs, "inputs", "an input", violations):
        violations.extend(_id_violations(declared.get("id"), INPUT_ID, where, "inputs", "input", seen))
        kind = declared.get("type")
        if version < MODEL_0_21 and kind not in INPUT_TYPES_0_20:
            violations.append((f"{where}.type", f"Invalid type: {kind}"))
        elif version >= MODEL_0_21 and kind not in _input_types():
            violations.append((f"{where}.type", f"Invalid input type '{kind}'"))
    return violations


def _declared_objects(items: Any, key: str, noun: str,
                      violations: list[tuple[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, object) for each object of the flow's `key` list; anything else is a violation."""
    if items is None:
        return
    if not isinstance(items, list):
        violations.append((key, f"must be a list of {noun.split()[-1]}s"))
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield f"{key}[{index}]", item
        else:
            violations.append((f"{key}[{index}]", f"must be {noun} object"))


def _id_violations(item_id: Any, pattern: re.Pattern[str], where: str, key: str, noun: str,
                   seen: set[str]) -> list[tuple[str, str]]:
    if not isinstance(item_id, str) or not item_id:
        return [(f"{where}.id", "must not be null")]
    if not pattern.fullmatch(item_id):
        return [(f"{where}.id", f"must match \"{pattern.pattern}\"")]
    if item_id in seen:
        return [(key, f"Duplicate {noun} id with name [{item_id}]")]
    seen.add(item_id)
    return []


def _walk_tasks(tasks: Any, path: str, seen: dict[str, int], violations: list[tuple[str, str]]) -> None:
    if tasks is None:
        return
    if not isinstance(tasks, list):
        violations.append((path, "must be a list of tasks"))
        return
    for index, task in enumerate(tasks):
        where = f"{path}[{index}]"
        if not isinstance(task, dict):
            violations.append((where, "must be a task object"))
            continue
        task_id, task_type = task.get("id"), task.get("type")
        if not isinstance(task_id, str) or not task_id:
            violations.append((f"{where}.id", "must not be null"))
        elif not TASK_ID.match(task_id):
            violations.append((f"{where}.id", f"must match \"{TASK_ID.pattern}\""))
        else:
            seen[task_id] = seen.get(task_id, 0) + 1
        violations.extend(_plugin_type_violations(task_type, f"{where}.type"))
        runner = task.get("taskRunner")
        if isinstance(runner, dict):
            violations.extend(_plugin_type_violations(runner.get("type"), f"{where}.taskRunner.type"))
        for key in CHILD_TASK_KEYS:
            _walk_tasks(task.get(key), f"{where}.{key}", seen, violations)
        cases = task.get("cases")
        if isinstance(cases, dict):
            for case, case_tasks in cases.items():
                _walk_tasks(case_tasks, f"{where}.cases.{case}", seen, violations)


def _plugin_type_violations(plugin_type: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(plugin_type, str) or not PLUGIN_TYPE.match(plugin_type):
        return [(where, "must be a plugin type")]
    if plugin_type not in KNOWN_PLUGIN_TYPES:
        return [(where, f"Invalid type: {plugin_type}")]
    return []


def _trigger_violations(triggers: Any) -> list[tuple[str, str]]:
    violations: list[tuple[str, str]] = []
    seen: set[str] = set()
    for where, trigger in _declared_objects(triggers, "triggers", "a trigger", violations):
        violations.extend(_id_violations(trigger.get("id"), TASK_ID, where, "triggers", "trigger", seen))
        violations.extend(_plugin_type_violations(trigger.get("type"), f"{where}.type"))
        if trigger.get("type") in SCHEDULE_TYPES:
            violations.extend(_schedule_violations(trigger, where))
    return violations


def _schedule_violations(trigger: dict[str, Any], where: str) -> list[tuple[str, str]]:
    violations = []
    cron = trigger.get("cron")
    if not isinstance(cron, str) or not cron.strip():
        violations.append((f"{where}.cron", "must not be null"))
    elif cron.strip() not in CRON_NICKNAMES and (
            len(cron.split()) != (6 if trigger.get("withSeconds") is True else 5)
            or not croniter.is_valid(croniter_expression(trigger))):
        violations.append((f"{where}.cron", "invalid cron expression"))
    timezone = trigger.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            violations.append((f"{where}.timezone", f"Unknown time-zone ID: {timezone}"))
    return violations


def croniter_expression(trigger: dict[str, Any]) -> str:
    """A Schedule's cron in croniter's field order.

    Kestra parses five UNIX fields, or six with `withSeconds: true`, seconds first; croniter takes any of
    5-7 fields with seconds sixth, so the field count is checked apart and the seconds field moved last.
    """
    fields = str(trigger["cron"]).split()
    if trigger.get("withSeconds") is True and len(fields) == 6:
        fields = [*fields[1:], fields[0]]
    return " ".join(fields)


def schedule_triggers(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [trigger for trigger in flow.get("triggers") or []
            if isinstance(trigger, dict) and trigger.get("type") in SCHEDULE_TYPES]
