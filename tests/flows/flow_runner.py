"""Runs a Postgres flow's task list against a real PostgreSQL, the way Kestra would run it.

Every task type the Postgres flows use is handled as its Kestra plugin does (see each method);
anything else raises, so a flow that grows a new task type fails its tests until this runner is
taught it. The download is the only stand-in: the shell task's rendered command runs for real with
/bin/sh, with `wget` and `gunzip` on its PATH standing in for the network (download_stand_in.py); each
URL in the command is handed to `fetch`, which returns a local CSV (the tests' real samples or a
generated month), None for a file the source does not publish (wget sees HTTP 404), or raises
ConnectionError (wget cannot reach the server). The command's `::{"outputs": …}::` lines become the
task's vars, as in Kestra. A run ends in `state` SUCCESS, or
WARNING when a task with allowFailure failed (Kestra carries on and ends the execution in WARNING); any
other failure raises. The GCP flows' BigQuery and GCS tasks are not run: a test that runs such a flow
gives `gcp`, which receives each one's task id and rendered properties.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import psycopg
import yaml

from tests.flows import download_stand_in
from tests.flows.pebble import Context, Renderer

# Runs in parallel threads (a backfill's months in lockstep) write their stand-ins and start their shells
# one at a time: a shell forked while another run's stand-in is still open for writing keeps it open until
# it execs, and that run's exec of the stand-in then fails with ETXTBSY, on which /bin/sh goes on down PATH
# to the machine's real wget (seen under load: exit 4, network failure).
_SPAWN_LOCK = threading.Lock()

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"
NAMESPACE = "zoomcamp"
COPY_CHUNK = 1 << 20

# Kestra's Queries task splits the rendered SQL with this regex before executing the pieces
# in one transaction (plugin-jdbc AbstractJdbcQueries).
KESTRA_STATEMENT_SPLIT = re.compile(r";[^']")
# a script task's stdout line that sets outputs: Kestra matches each whole line against
# `^::(\{.*})::$` (PluginUtilsService.parseOut) and reads its JSON's "outputs" into the task's vars
OUTPUTS_LINE = re.compile(r"::(\{.*\})::")


class UnsupportedTask(ValueError):
    """The flow uses a task type or property this runner does not emulate."""


class TaskFailed(RuntimeError):
    """A task failed as it would fail in Kestra (here: a shell command exiting non-zero)."""


def load_flow(flow_id: str) -> dict[str, Any]:
    # libyaml's safe loader: the same YAML 1.1 reading as yaml.safe_load, a tenth of its time (a sixth of
    # a month's run was spent parsing the flow)
    return yaml.load((FLOWS_DIR / NAMESPACE / f"{flow_id}.yaml").read_text(), Loader=yaml.CSafeLoader)


def split_statements(sql: str) -> list[str]:
    return [piece for piece in KESTRA_STATEMENT_SPLIT.split(sql) if piece.strip()]


def copy_statement(task: Mapping[str, Any], table: str) -> str:
    """The COPY statement Kestra's CopyIn builds from the task's properties (AbstractCopy.query)."""
    allowed = {"id", "type", "format", "header", "from", "table", "columns", "delimiter"}
    if set(task) - allowed:
        raise UnsupportedTask(f"CopyIn properties not emulated: {sorted(set(task) - allowed)}")
    parts = ["COPY", table]
    if task.get("columns"):
        parts.append("(" + ", ".join(task["columns"]) + ")")
    parts.append("FROM STDIN")
    options = []
    if task.get("format", "TEXT") != "TEXT":
        options.append(f"FORMAT {task['format']}")
    if "delimiter" in task:
        options.append(f"DELIMITER '{task['delimiter']}'")
    if "header" in task:
        options.append("HEADER " + ("TRUE" if task["header"] else "FALSE"))
    if options:
        parts.append("WITH (" + ", ".join(options) + ")")
    return " ".join(parts)


@dataclass
class FlowRun:
    """One execution of a flow: inputs, an execution id, KV, and where its connections go."""

    flow: Mapping[str, Any]
    inputs: Mapping[str, Any]
    execution_id: str
    conninfo: Mapping[str, Any]
    fetch: Callable[[str], Path | None]
    kv: Mapping[str, Any] = field(default_factory=dict)
    trigger_date: Any = None
    before_task: Callable[[str], None] = lambda task_id: None
    gcp: Callable[[str, dict[str, str]], None] | None = None
    executed: list[str] = field(default_factory=list)
    fetched_urls: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    state: str = "SUCCESS"
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.renderer = Renderer()
        self._scratch: tempfile.TemporaryDirectory | None = None
        declared = {item["id"]: item for item in self.flow.get("inputs", [])}
        unknown = set(self.inputs) - set(declared)
        if unknown:
            raise ValueError(f"inputs not declared by the flow: {sorted(unknown)}")
        values = {key: item.get("defaults") for key, item in declared.items()}
        values.update(self.inputs)
        for key, item in declared.items():
            values[key] = _typed_input(key, item, values[key])
        self.context = Context(
            inputs=values,
            variables=self.flow.get("variables", {}),
            execution_id=self.execution_id,
            namespace=self.flow["namespace"],
            namespace_files=FLOWS_DIR / self.flow["namespace"] / "files",
            kv=self.kv,
            trigger_date=self.trigger_date,
        )

    def render(self, template: str) -> str:
        return self.renderer.render(template, self.context)

    def run(self) -> None:
        try:
            self._run_tasks(self.flow["tasks"])
        finally:
            try:
                self._run_tasks(self.flow.get("finally", []))
            finally:
                if self._scratch is not None:
                    self._scratch.cleanup()
                    self._scratch = None

    def _run_tasks(self, tasks: list[Mapping[str, Any]]) -> None:
        for task in tasks:
            self.before_task(task["id"])
            handler = {
                "io.kestra.plugin.core.execution.Labels": self._labels,
                "io.kestra.plugin.core.log.Log": self._log,
                "io.kestra.plugin.core.execution.Fail": self._fail,
                "io.kestra.plugin.gcp.bigquery.Query": self._gcp,
                "io.kestra.plugin.gcp.gcs.Upload": self._gcp,
                "io.kestra.plugin.core.flow.If": self._if,
                "io.kestra.plugin.jdbc.postgresql.Queries": self._queries,
                "io.kestra.plugin.jdbc.postgresql.Query": self._query,
                "io.kestra.plugin.jdbc.postgresql.CopyIn": self._copy_in,
                "io.kestra.plugin.scripts.shell.Commands": self._download,
                "io.kestra.plugin.core.flow.Subflow": self._subflow,
            }.get(task["type"])
            if handler is None:
                raise UnsupportedTask(f"task {task['id']}: type {task['type']} is not emulated")
            handler(task)
            self.executed.append(task["id"])

    def _labels(self, task: Mapping[str, Any]) -> None:
        self.labels.update({key: self.render(value) for key, value in task["labels"].items()})

    def _log(self, task: Mapping[str, Any]) -> None:
        self.render(task["message"])

    def _fail(self, task: Mapping[str, Any]) -> None:
        """Kestra's Fail without a condition: the task fails with errorMessage (default "Task failure");
        with allowFailure the execution goes on and ends in WARNING (core Task.allowFailure,
        WorkerTask.fail), with allowWarning too it would end in SUCCESS (not emulated)."""
        if set(task) - {"id", "type", "errorMessage", "allowFailure"}:
            raise UnsupportedTask(f"task {task['id']}: Fail properties not emulated: {sorted(task)}")
        message = self.render(task.get("errorMessage", "Task failure"))
        if task.get("allowFailure") is not True:
            raise TaskFailed(f"task {task['id']}: {message}")
        self.state = "WARNING"
        self.errors.append(message)

    def _gcp(self, task: Mapping[str, Any]) -> None:
        if self.gcp is None:
            raise UnsupportedTask(f"task {task['id']}: {task['type']} runs only when the test records GCP tasks")
        self.gcp(task["id"], {key: self.render(value) for key, value in task.items() if key not in ("id", "type")})

    def _if(self, task: Mapping[str, Any]) -> None:
        # Kestra takes any rendered text but false, 0, -0 and "" as true; a condition that renders to
        # anything but true/false is a bug that truthiness would hide, so it fails here
        condition = self.render(task["condition"]).strip()
        if condition not in ("true", "false"):
            raise UnsupportedTask(f"task {task['id']}: condition rendered to {condition!r}, not true/false")
        self._run_tasks(task.get("then" if condition == "true" else "else", []))

    def _subflow(self, task: Mapping[str, Any]) -> None:
        """Kestra's Subflow with wait + transmitFailed: the child runs to its end; its failure fails us."""
        if not (task.get("wait") is True and task.get("transmitFailed") is True):
            raise UnsupportedTask(f"task {task['id']}: only a waited Subflow that transmits failure is emulated")
        if task["namespace"] != self.flow["namespace"]:
            raise UnsupportedTask(f"task {task['id']}: subflows outside {self.flow['namespace']} are not emulated")
        child = FlowRun(
            flow=load_flow(task["flowId"]),
            inputs={key: self.render(str(value)) for key, value in task.get("inputs", {}).items()},
            execution_id=f"{self.execution_id}Sub",
            conninfo=self.conninfo,
            fetch=self.fetch,
            kv=self.kv,
            before_task=self.before_task,
            gcp=self.gcp,
        )
        child.run()
        self.executed.extend(f"{task['id']}/{task_id}" for task_id in child.executed)
        self.fetched_urls.extend(child.fetched_urls)
        # transmitFailed: a child in WARNING puts this task, and so this execution, in WARNING
        # (core ExecutableUtils.guessState); a failed child has raised already
        if child.state == "WARNING":
            self.state = "WARNING"
            self.errors.extend(child.errors)

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(**self.conninfo)

    def _queries(self, task: Mapping[str, Any]) -> None:
        """Kestra's Queries: split the SQL, run every piece in one transaction (the default)."""
        if task.get("transaction", True) is not True or set(task) - {"id", "type", "sql", "description"}:
            raise UnsupportedTask(f"task {task['id']}: only default Queries properties are emulated")
        statements = split_statements(self.render(task["sql"]))
        with self._connect() as connection:
            for statement in statements:
                _reject_jdbc_placeholders(task["id"], statement)
                connection.execute(statement)

    def _query(self, task: Mapping[str, Any]) -> None:
        """Kestra's Query: exactly one statement; FETCH_ONE exposes the first row as outputs.<id>.row."""
        statement = self.render(task["sql"])
        if len(split_statements(statement)) != 1:
            raise UnsupportedTask(f"task {task['id']}: Query runs one statement since Kestra 1.1")
        _reject_jdbc_placeholders(task["id"], statement)
        fetch_type = task.get("fetchType", "NONE")
        with self._connect() as connection:
            cursor = connection.execute(statement)
            if fetch_type == "FETCH_ONE":
                names = [column.name for column in cursor.description]
                self.context.outputs[task["id"]] = {"row": dict(zip(names, cursor.fetchone()))}
            elif fetch_type != "NONE":
                raise UnsupportedTask(f"task {task['id']}: fetchType {fetch_type} is not emulated")

    def _download(self, task: Mapping[str, Any]) -> None:
        runner = task.get("taskRunner", {}).get("type")
        if runner != "io.kestra.plugin.core.runner.Process" or task.get("outputFiles") != ["*.csv"]:
            raise UnsupportedTask(f"task {task['id']}: expected a Process-runner download with outputFiles *.csv")
        (command,) = [self.render(line) for line in task["commands"]]
        shlex.split(command)  # the shell must be able to parse it
        urls = download_stand_in.URL.findall(command)
        if not urls:
            raise UnsupportedTask(f"task {task['id']}: no download in the command: {command}")
        answers = {}
        for url in urls:
            self.fetched_urls.append(url)
            try:
                found = self.fetch(url)
            except ConnectionError:
                answers[url] = download_stand_in.UNREACHABLE
            else:
                answers[url] = None if found is None else str(found)
        stand_in = Path(tempfile.mkdtemp(prefix="bin-", dir=self._workdir()))
        workdir = Path(tempfile.mkdtemp(prefix=f"{task['id']}-", dir=self._workdir()))
        environment = dict(os.environ, PATH=f"{stand_in}{os.pathsep}{os.environ.get('PATH', '')}")
        with _SPAWN_LOCK:
            download_stand_in.install(stand_in, answers)
            shell = subprocess.Popen(["/bin/sh", "-c", command], cwd=workdir, env=environment, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = shell.communicate(timeout=600)
        if shell.returncode != 0:
            raise TaskFailed(f"task {task['id']}: the command failed ({shell.returncode}): {stderr}")
        variables = {}
        for line in stdout.splitlines():
            if found_line := OUTPUTS_LINE.fullmatch(line):
                variables.update(json.loads(found_line[1]).get("outputs", {}))
        self.context.outputs[task["id"]] = {
            "outputFiles": {path.name: str(path) for path in workdir.glob("*.csv")},
            "vars": variables,
        }

    def _workdir(self) -> str:
        """Where this run's script tasks work, removed when the run ends."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="flow-run-")
        return self._scratch.name

    def _copy_in(self, task: Mapping[str, Any]) -> None:
        """Kestra's CopyIn: `COPY table [(cols)] FROM STDIN WITH (...)`, streaming the stored file."""
        source = Path(self.render(task["from"]))
        statement = copy_statement(task, self.render(task["table"]))
        with self._connect() as connection, connection.cursor() as cursor:
            with cursor.copy(statement) as copy, source.open("rb") as data:
                while chunk := data.read(COPY_CHUNK):
                    copy.write(chunk)


def _typed_input(key: str, item: Mapping[str, Any], value: Any) -> Any:
    """An input value as the flow sees it: Kestra types a BOOL input (a subflow passes rendered text)."""
    if value is None:
        if item.get("required", True):
            raise ValueError(f"input {key} is required and has no value and no default")
        return None
    if item["type"] == "SELECT" and not item.get("allowCustomValue") and value not in item["values"]:
        raise ValueError(f"input {key}={value!r} is not one of {item['values']}")
    # core StringInput.validate: the value must match the whole pattern (the flows anchor theirs)
    if item["type"] == "STRING" and "validator" in item and not re.fullmatch(item["validator"], str(value)):
        raise ValueError(f"input {key}={value!r}: it must match the pattern `{item['validator']}`")
    if item["type"] == "BOOL" and not isinstance(value, bool):
        if str(value).strip().lower() not in ("true", "false"):
            raise ValueError(f"input {key}={value!r} is not a BOOL")
        return str(value).strip().lower() == "true"
    return value


def _reject_jdbc_placeholders(task_id: str, statement: str) -> None:
    # Kestra prepares each statement: a `?` would be taken as a JDBC parameter with no value
    if "?" in statement:
        raise UnsupportedTask(f"task {task_id}: '?' in SQL is a JDBC placeholder: {statement[:80]}")
