"""Local validation of a flows directory, before anything is sent to Kestra.

Layout: DIR/<namespace>/<flow_id>.yaml (or .yml) holds one flow each, named after its id; DIR/<namespace>/files/<path> is
uploaded as the namespace file `/<path>`. Other files are ignored; names starting with `.` are skipped.
Each problem is one line naming the file, the line (or path) and the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from kestra_ops.flow_yaml import LineDict, LineList, YamlProblem, load_documents
from kestra_ops.outputs import DATA_LAKE_KV_KEYS

FLOW_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TASK_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
# Kestra 1.0 serves these words as API sub-paths of a flow, so they cannot be flow ids.
RESERVED_FLOW_IDS = frozenset(
    {"pause", "resume", "force-run", "change-status", "kill", "executions", "search", "source", "disable", "enable"}
)
SCHEDULE_TYPES = frozenset({"io.kestra.plugin.core.trigger.Schedule", "io.kestra.core.models.triggers.types.Schedule"})
CRON_NICKNAMES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
TASK_LIST_KEYS = ("tasks", "errors", "finally", "afterExecution")
# The properties of Kestra's Flow model: the server rejects any other top-level key ("Unrecognized field").
FLOW_PROPERTIES = frozenset({
    "afterExecution", "checks", "concurrency", "deleted", "description", "disabled", "errors", "finally", "id",
    "inputs", "labels", "listeners", "namespace", "outputs", "pluginDefaults", "retry", "revision", "sla",
    "taskDefaults", "tasks", "triggers", "variables", "workerGroup",
})
# What a flow may use that older servers refuse, and the release that brought it: a top-level `finally`
# (kestra-io/kestra#6686, 0.21) and BOOL inputs (kestra-io/kestra#8257, 0.22); v0.20.7's Flow.java and
# Input.java have neither.
FINALLY_SINCE = (0, 21)
BOOL_INPUT_SINCE = (0, 22)
FLOW_SUFFIXES = (".yaml", ".yml")
KV_CALL = re.compile(r"""\bkv\(\s*(['"])(?P<key>[^'"]+)\1(?P<args>[^)]*)\)""")
KV_OPTIONAL = re.compile(r"errorOnMissing\s*=\s*false", re.IGNORECASE)
KV_OTHER_NAMESPACE = re.compile(r"""^\s*,\s*(['"]|namespace\s*=)""")


@dataclass(frozen=True)
class LocalFlow:
    file: Path
    namespace: str
    id: str
    source: str
    # (line, feature, the Kestra release it needs) for what older servers refuse
    requires: tuple[tuple[int, str, tuple[int, int]], ...] = ()

    @property
    def needs_own_request(self) -> bool:
        """Kestra's bulk endpoint splits its body on the substring `---`, so such a flow goes alone."""
        return "---" in self.source


@dataclass(frozen=True)
class LocalNamespaceFile:
    file: Path
    namespace: str
    path: str  # as Kestra names it: /dir/name.sql
    content: bytes


@dataclass(frozen=True)
class ValidationReport:
    directory: Path
    namespaces: tuple[str, ...]
    flows: tuple[LocalFlow, ...]
    namespace_files: tuple[LocalNamespaceFile, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    details: tuple[str, ...] = ()  # what a summarised warning stands for (shown with -v)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_directory(path: Path, kv_keys: set[str] | None = None, strict: bool = False) -> ValidationReport:
    """Validate every flow and namespace file under `path`. `kv_keys`: the stack's KV keys when known;
    a kv() read of another key is a warning, or an error when `strict`; reads of the data lake's keys on a
    stack without the data lake are one line naming the flows, each read in `details`."""
    checker = _Checker(kv_keys, strict)
    namespaces: list[str] = []
    if not path.is_dir():
        checker.errors.append(f"{path}: not a directory")
    else:
        for entry in sorted(path.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_file() and entry.suffix in FLOW_SUFFIXES:
                checker.errors.append(
                    f"{entry}: a flow file must be in a folder named after its namespace ({path}/<namespace>/{entry.name})"
                )
            elif entry.is_dir():
                if NAMESPACE.match(entry.name):
                    namespaces.append(entry.name)
                    checker.namespace_dir(entry)
                else:
                    checker.errors.append(f"{entry}: folder name is not a valid Kestra namespace (a-z 0-9 . _ -)")
        if not checker.flows and not checker.files and not checker.errors:
            checker.warnings.append(f"{path}: no flows found (expected {path}/<namespace>/<flow_id>.yaml)")
        checker.data_lake_summary()
    return ValidationReport(
        directory=path,
        namespaces=tuple(namespaces),
        flows=tuple(checker.flows),
        namespace_files=tuple(checker.files),
        errors=tuple(checker.errors),
        warnings=tuple(checker.warnings),
        details=tuple(checker.details),
    )


class _Checker:
    def __init__(self, kv_keys: set[str] | None, strict: bool) -> None:
        self.kv_keys, self.strict = kv_keys, strict
        self.flows: list[LocalFlow] = []
        self.files: list[LocalNamespaceFile] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.details: list[str] = []
        self._seen: dict[tuple[str, str], Path] = {}
        # Without the data lake its flows cannot run: said once for them all, not once per read.
        self._without_data_lake = kv_keys is not None and not kv_keys & DATA_LAKE_KV_KEYS
        self._data_lake_flows: list[str] = []

    def namespace_dir(self, folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_file() and entry.suffix in FLOW_SUFFIXES:
                self.flow_file(entry, folder.name)
            elif entry.is_dir() and entry.name == "files":
                self.files_dir(entry, folder.name)
            elif entry.is_dir():
                self.warnings.append(f"{entry}: ignored (a namespace folder holds <flow_id>.yaml files and files/)")

    # -- flows ---------------------------------------------------------------------------------------

    def flow_file(self, file: Path, folder_namespace: str) -> None:
        error = lambda line, reason: self.errors.append(f"{file}:{line}: {reason}")  # noqa: E731
        try:
            source = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.errors.append(f"{file}: not UTF-8 text")
            return
        try:
            documents = load_documents(source)
        except YamlProblem as problem:
            error(problem.line, f"invalid YAML: {problem.reason}")
            return
        if not documents:
            error(1, "empty file; a flow needs at least id, namespace and tasks")
            return
        if len(documents) > 1:
            separator = next((n for n, text in enumerate(source.splitlines(), 1) if text.rstrip() == "---" and n > 1), 1)
            error(separator, f"holds {len(documents)} YAML documents; put each flow in its own file")
            return
        flow = documents[0]
        if not isinstance(flow, LineDict):
            error(1, "a flow must be a YAML mapping (id, namespace, tasks, ...)")
            return
        for key in flow:
            if key not in FLOW_PROPERTIES:
                error(flow.lines[key], f"unknown top-level key {key!r} (Kestra rejects it)")
        flow_id = self._flow_id(flow, error)
        namespace = self._namespace(flow, folder_namespace, error)
        if flow_id and namespace:
            key = (namespace, flow_id)
            if key in self._seen:
                error(flow.lines["id"], f"flow {namespace}.{flow_id} is already defined in {self._seen[key]}")
            else:
                self._seen[key] = file
            if file.stem != flow_id:
                error(flow.lines["id"], f"the file must be named after the flow id ({flow_id}{file.suffix})")
        self._tasks(flow, error)
        self._triggers(flow, error)
        self._kv_reads(file, source, flow_id or file.stem)
        self._container_images(file, flow)
        if flow_id and namespace:
            self.flows.append(LocalFlow(file=file, namespace=namespace, id=flow_id, source=source,
                                        requires=_requirements(flow)))

    @staticmethod
    def _flow_id(flow: LineDict, error) -> str | None:
        flow_id = flow.get("id")
        line = flow.lines.get("id", flow.line)
        if "id" not in flow:
            error(flow.line, "missing 'id'")
        elif not isinstance(flow_id, str) or not FLOW_ID.match(flow_id) or len(flow_id) > 100:
            error(line, f"id {flow_id!r} is invalid (1-100 of a-z A-Z 0-9 . _ -, not starting with . _ -)")
        elif flow_id in RESERVED_FLOW_IDS:
            error(line, f"id {flow_id!r} is reserved by Kestra 1.x (it is an API path); choose another")
        else:
            return flow_id
        return None

    @staticmethod
    def _namespace(flow: LineDict, folder_namespace: str, error) -> str | None:
        namespace = flow.get("namespace")
        line = flow.lines.get("namespace", flow.line)
        if "namespace" not in flow:
            error(flow.line, "missing 'namespace'")
        elif not isinstance(namespace, str) or not NAMESPACE.match(namespace) or len(namespace) > 150:
            error(line, f"namespace {namespace!r} is invalid (1-150 of a-z 0-9 . _ -)")
        elif namespace != folder_namespace:
            error(line, f"namespace {namespace!r} does not match its folder {folder_namespace!r}")
        else:
            return namespace
        return None

    def _tasks(self, flow: LineDict, error) -> None:
        seen: dict[str, int] = {}
        for key in TASK_LIST_KEYS:
            if key in flow:
                value = flow[key]
                if not isinstance(value, LineList):
                    error(flow.lines[key], f"'{key}' must be a list of tasks")
                    continue
                for item, line in zip(value, value.lines):
                    self._task(item, line, f"{key}", seen, error)

    def _task(self, task: Any, line: int, where: str, seen: dict[str, int], error) -> None:
        if not isinstance(task, LineDict):
            error(line, f"{where}: a task must be a mapping with id and type")
            return
        task_id = task.get("id")
        id_line = task.lines.get("id", task.line)
        if not isinstance(task_id, str):
            error(task.line, f"{where}: task without a string 'id'")
        elif not TASK_ID.match(task_id):
            error(id_line, f"task id {task_id!r} is invalid (a-z A-Z 0-9 _ -, not starting with _ -)")
        elif task_id in seen:
            error(id_line, f"task id {task_id!r} is used twice (first at line {seen[task_id]})")
        else:
            seen[task_id] = id_line
        if not isinstance(task.get("type"), str):
            error(task.line, f"task {task_id!r} has no 'type'")
        for value in task.values():
            self._nested_tasks(value, seen, error, str(task_id))

    def _nested_tasks(self, value: Any, seen: dict[str, int], error, parent: str) -> None:
        """Flowable tasks hold tasks under many keys (tasks, then, else, cases.*, errors, ...): any nested
        mapping with an id and a dotted plugin type is a task."""
        if isinstance(value, LineDict):
            if isinstance(value.get("id"), str) and "." in str(value.get("type", "")):
                self._task(value, value.line, f"in {parent}", seen, error)
            else:
                for child in value.values():
                    self._nested_tasks(child, seen, error, parent)
        elif isinstance(value, LineList):
            for child in value:
                self._nested_tasks(child, seen, error, parent)

    def _triggers(self, flow: LineDict, error) -> None:
        triggers = flow.get("triggers")
        if triggers is None:
            return
        if not isinstance(triggers, LineList):
            error(flow.lines["triggers"], "'triggers' must be a list")
            return
        seen: dict[str, int] = {}
        for trigger, line in zip(triggers, triggers.lines):
            if not isinstance(trigger, LineDict) or not isinstance(trigger.get("id"), str):
                error(line, "a trigger must be a mapping with a string 'id' and a 'type'")
                continue
            trigger_id, id_line = trigger["id"], trigger.lines["id"]
            if not TASK_ID.match(trigger_id):
                error(id_line, f"trigger id {trigger_id!r} is invalid (a-z A-Z 0-9 _ -)")
            elif trigger_id in seen:
                error(id_line, f"trigger id {trigger_id!r} is used twice (first at line {seen[trigger_id]})")
            else:
                seen[trigger_id] = id_line
            if trigger.get("type") in SCHEDULE_TYPES:
                self._schedule(trigger, error)

    @staticmethod
    def _schedule(trigger: LineDict, error) -> None:
        name = trigger["id"]
        cron = trigger.get("cron")
        line = trigger.lines.get("cron", trigger.line)
        if not isinstance(cron, str) or not cron.strip():
            error(line, f"schedule {name!r} needs a 'cron' expression")
        else:
            reason = cron_problem(cron.strip(), with_seconds=trigger.get("withSeconds") is True)
            if reason:
                error(line, f"schedule {name!r}: cron {cron!r} {reason}")
        if "timezone" in trigger:
            timezone = trigger["timezone"]
            try:
                ZoneInfo(str(timezone))
            except (ZoneInfoNotFoundError, ValueError):
                error(trigger.lines["timezone"], f"schedule {name!r}: unknown timezone {timezone!r}")

    def _kv_reads(self, file: Path, source: str, flow_name: str) -> None:
        if self.kv_keys is None:
            return
        reported: set[str] = set()  # one line per missing key and file: its first read
        for match in KV_CALL.finditer(source):
            key, args = match.group("key"), match.group("args")
            if key in self.kv_keys or KV_OPTIONAL.search(args) or KV_OTHER_NAMESPACE.match(args):
                continue
            line = source.count("\n", 0, match.start()) + 1
            message = f"{file}:{line}: reads kv('{key}'), which the stack's kestra_kv does not set"
            if self._without_data_lake and key in DATA_LAKE_KV_KEYS:
                self.details.append(message)
                if flow_name not in self._data_lake_flows:
                    self._data_lake_flows.append(flow_name)
            elif key not in reported:
                reported.add(key)
                (self.errors if self.strict else self.warnings).append(message)

    def data_lake_summary(self) -> None:
        flows = self._data_lake_flows
        if flows:
            needs, fails = ("flows need", "they") if len(flows) > 1 else ("flow needs", "it")
            message = (f"{len(flows)} {needs} the data lake (gcpProject unset): {', '.join(sorted(flows))} — "
                       f"{fails} will fail until you set gcpProject")
            (self.errors if self.strict else self.warnings).append(message)

    def _container_images(self, file: Path, node: Any) -> None:
        """A task's containerImage must name a fixed version: a tag other than latest, or a digest."""
        if isinstance(node, LineDict):
            image = node.get("containerImage")
            if isinstance(image, str) and "{{" not in image and not image_is_pinned(image):
                message = f"{file}:{node.lines['containerImage']}: containerImage {image!r} is not pinned (add a version tag or digest)"
                (self.errors if self.strict else self.warnings).append(message)
            for child in node.values():
                self._container_images(file, child)
        elif isinstance(node, LineList):
            for child in node:
                self._container_images(file, child)

    # -- namespace files ---------------------------------------------------------------------------------

    def files_dir(self, folder: Path, namespace: str) -> None:
        root = folder.resolve()
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder)
            if any(part.startswith(".") for part in relative.parts) or file.is_dir():
                continue
            if not file.resolve().is_relative_to(root):
                self.errors.append(f"{file}: a symbolic link out of {folder}; namespace files must live inside it")
                continue
            if relative.parts[0].startswith("_flows"):  # 0.20.7 forbids every path matching /_flows.*
                self.errors.append(f"{file}: names starting with _flows are Kestra's (files/_flows/ imports flows); "
                                   f"put flows in {folder.parent}/ and rename other files")
                continue
            if file.name.endswith(".metadata"):  # LocalStorage.allByPrefix skips them (0.20.7)
                self.errors.append(f"{file}: Kestra's storage hides names ending in .metadata from its listings; rename it")
                continue
            remote = "/" + relative.as_posix()
            if "\\" in remote or any(ord(c) < 32 for c in remote):
                self.errors.append(f"{file}: the file name has a backslash or a control character")
                continue
            self.files.append(LocalNamespaceFile(file=file, namespace=namespace, path=remote, content=file.read_bytes()))


def _requirements(flow: LineDict) -> tuple[tuple[int, str, tuple[int, int]], ...]:
    found = []
    inputs = flow.get("inputs")
    if isinstance(inputs, LineList):
        for item in inputs:
            if isinstance(item, LineDict) and item.get("type") == "BOOL":
                found.append((item.lines["type"], "input type BOOL", BOOL_INPUT_SINCE))
    if "finally" in flow:
        found.append((flow.lines["finally"], "a top-level 'finally'", FINALLY_SINCE))
    return tuple(found)


def too_new_for(flows: Iterable[LocalFlow], server_release: tuple[int, int], server_version: str) -> list[str]:
    """One line per feature a flow uses that the server's release predates."""
    return [f"{flow.file}:{line}: {feature} needs Kestra {since[0]}.{since[1]} or newer; the server runs {server_version}"
            for flow in flows for line, feature, since in flow.requires if since > server_release]


def image_is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    tag = image.rsplit("/", 1)[-1].partition(":")[2]  # a registry's :port comes before the last '/'
    return bool(tag) and tag != "latest"


@functools.lru_cache(maxsize=256)  # flows share a handful of expressions; croniter's check is slow
def cron_problem(cron: str, with_seconds: bool = False) -> str | None:
    """None when Kestra's Schedule accepts the expression (Unix cron, 5 fields, or 6 with withSeconds)."""
    if cron.startswith("@"):
        return None if cron in CRON_NICKNAMES else f"is not one of {', '.join(sorted(CRON_NICKNAMES))}"
    fields = cron.split()
    expected = 6 if with_seconds else 5
    if len(fields) != expected:
        return f"has {len(fields)} fields, expected {expected}" + ("" if with_seconds else " (minute hour day month weekday)")
    if with_seconds:
        fields = fields[1:] + fields[:1]  # Kestra puts seconds first, croniter last
    if not croniter.is_valid(" ".join(fields)):
        return "is not a valid cron expression"
    return None
