"""How far a backfill has got: its executions by state, the failed ones' ids, and following it to its end.

Kestra gives a backfill's executions no mark of their own. Its system labels (kestra-io/kestra
core/src/main/java/io/kestra/core/models/Label.java, 1.x) are correlationId, username, app, readOnly,
restarted, replay, replayed, simulatedExecution and test: there is no `system.backfill`; 0.20.7 has only
the prefix and correlationId. The trigger context keeps the backfill (models/triggers/Backfill.java: start,
end, currentDate, paused, inputs, labels) only while it plays. So the executions are found by the label
`ops-backfill=<id>` that `ops seed-backfills` gives each backfill (Kestra copies a backfill's labels onto the
executions it creates), and how many the window holds is counted from the Schedule's cron and time zone.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kestra_ops.backfills import LABEL, backfill_id, find_trigger
from kestra_ops.client import KestraClient
from kestra_ops.executions import TERMINAL, search_by_label
from kestra_ops.outputs import BackfillSpec

PAGE = 100


@dataclass(frozen=True)
class BackfillProgress:
    spec: BackfillSpec
    expected: int  # the schedule's dates in [start, end]
    states: dict[str, int] = field(default_factory=dict)  # execution state -> count
    failed: tuple[str, ...] = ()  # ids of executions that ended other than SUCCESS
    running: bool = False  # the trigger still plays this backfill

    @property
    def found(self) -> int:
        return sum(self.states.values())

    @property
    def total(self) -> int:
        return max(self.expected, self.found)

    @property
    def done(self) -> int:
        return sum(count for state, count in self.states.items() if state in TERMINAL)

    @property
    def finished(self) -> bool:
        """Played and ended. Kestra's PUT /triggers saves the backfill through its trigger queue
        (TriggerController: `triggerQueue.emit`), so a poll right after it may see neither the backfill nor
        an execution: each date of the window must have had its execution."""
        return not self.running and self.done == self.found >= self.expected

    @property
    def name(self) -> str:
        return f"{self.spec.flow_id}/{self.spec.trigger_id}"

    @property
    def text(self) -> str:
        ordered = sorted(self.states.items(), key=lambda item: (item[0] != "SUCCESS", item[0]))
        ended = ", ".join(f"{count} {state}" for state, count in ordered if state in TERMINAL)
        to_go = max(0, self.total - self.done)
        return f"{self.done}/{self.total} done" + (f": {ended}" if ended else "") + f", {to_go} to go"

    def document(self) -> dict[str, Any]:
        return {"total": self.total, "done": self.done, "states": dict(self.states), "failed": list(self.failed),
                "running": self.running}


def _cron_fields(trigger: dict[str, Any]) -> str:
    fields = str(trigger["cron"]).split()
    if trigger.get("withSeconds") is True and len(fields) == 6:
        fields = [*fields[1:], fields[0]]  # Kestra puts seconds first, croniter last
    return " ".join(fields)


def scheduled_dates(client: KestraClient, namespace: str, spec: BackfillSpec) -> int:
    """How many dates the flow's Schedule trigger has in [start, end], in its time zone (Kestra plays a date
    equal to the end too: a backfill is dropped once the next date `isAfter(backfill.getEnd())`)."""
    from croniter import croniter

    flow = client.get_json(f"/flows/{namespace}/{spec.flow_id}")
    trigger = next((t for t in flow.get("triggers") or [] if isinstance(t, dict) and t.get("id") == spec.trigger_id), None)
    if trigger is None or not trigger.get("cron"):
        return 0
    zone = ZoneInfo(str(trigger.get("timezone") or "UTC"))
    dates = croniter(_cron_fields(trigger), spec.start.astimezone(zone) - timedelta(seconds=1))
    count = 0
    while dates.get_next(datetime) <= spec.end:
        count += 1
    return count


def backfill_progress(client: KestraClient, namespace: str, spec: BackfillSpec, expected: int,
                      trigger: dict[str, Any] | None) -> BackfillProgress:
    ident = backfill_id(namespace, spec)
    states: Counter[str] = Counter()
    failed: list[str] = []
    page = 1
    while True:
        answer = search_by_label(client, namespace, spec.flow_id, LABEL, ident, page=page, size=PAGE)
        results = answer.get("results") or []
        for execution in results:
            state = (execution.get("state") or {}).get("current", "?")
            states[state] += 1
            if state in TERMINAL and state != "SUCCESS":
                failed.append(execution["id"])
        if not results or page * PAGE >= int(answer.get("total", 0)):
            break
        page += 1
    labels = {item.get("key"): item.get("value") for item in ((trigger or {}).get("backfill") or {}).get("labels") or []}
    return BackfillProgress(spec, expected, dict(states), tuple(failed), labels.get(LABEL) == ident)


def follow_backfills(client: KestraClient, namespace: str, specs: list[BackfillSpec], *, timeout_s: float,
                     interval_s: float, show: Callable[[int, int, str], None]) -> tuple[list[BackfillProgress], bool]:
    """Poll until every backfill has played its window and its executions have ended, or the deadline passes:
    (the last progress of each, ended). A poll costs two requests per unfinished backfill (its trigger and one
    page of its executions); a finished one is not asked again."""
    expected = [scheduled_dates(client, namespace, spec) for spec in specs]
    latest: dict[int, BackfillProgress] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        for index, spec in enumerate(specs):
            if index not in latest or not latest[index].finished:
                trigger = find_trigger(client, namespace, spec.flow_id, spec.trigger_id)
                latest[index] = backfill_progress(client, namespace, spec, expected[index], trigger)
        current = [latest[index] for index in range(len(specs))]
        show(sum(p.done for p in current), sum(p.total for p in current), "; ".join(f"{p.name} {p.text}" for p in current))
        left = deadline - time.monotonic()
        if all(p.finished for p in current) or left <= 0:
            return current, all(p.finished for p in current)
        client.sleep(min(interval_s, left))


def outcome_problem(progress: list[BackfillProgress], ended: bool, timeout_s: float) -> str | None:
    """The error line for backfills that did not all succeed in time, or None."""
    problems = [f"backfill {p.name}: {len(p.failed)} of {p.found} executions did not succeed ({', '.join(p.failed)})"
                for p in progress if p.failed]
    if not ended:
        going = "; ".join(f"{p.name} {p.text}" for p in progress if not p.finished)
        problems.append(f"backfills still running after {timeout_s:g} s ({going}); they go on on the server")
    return "; ".join(problems) or None
