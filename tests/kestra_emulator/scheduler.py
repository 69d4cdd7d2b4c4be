"""The part of Kestra's scheduler that plays backfills: one execution per cron date in [start, end]
(the end is inclusive: Kestra drops a backfill once the next date is after it).

Each execution gets the trigger's inputs overlaid with the backfill's, and the labels Kestra's Schedule
trigger gives it (the flow's, the trigger's, then the backfill's; Kestra adds no backfill-specific system
label, only the `system.correlationId` every execution gets). A finished backfill is removed from the
trigger context, as Kestra does once the current date passes the end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from tests.kestra_emulator.executions import flow_labels, new_execution
from tests.kestra_emulator.flow_rules import croniter_expression
from tests.kestra_emulator.state import EmulatorState, iso, now
from tests.kestra_emulator.triggers import next_schedule_date, parse_datetime, trigger_definition


def _labels(pairs: Any) -> list[dict[str, str]]:
    if isinstance(pairs, dict):
        return [{"key": str(key), "value": str(value)} for key, value in pairs.items()]
    return [{"key": str(item["key"]), "value": str(item["value"])} for item in pairs or []]


def run_backfills(state: EmulatorState, limit: int | None = None) -> int:
    """Advance every unpaused backfill (by at most `limit` executions each); return executions created."""
    created = 0
    for key, context in list(state.triggers.items()):
        backfill = context.get("backfill")
        trigger = trigger_definition(state, key)
        flow = state.live_flow(key[0], key[1])
        if backfill is None or backfill.get("paused") or trigger is None or flow is None:
            continue
        zone = ZoneInfo(str(trigger.get("timezone") or "UTC"))
        end = parse_datetime(backfill["end"]) if backfill.get("end") else now()
        dates = croniter(croniter_expression(trigger), parse_datetime(backfill["currentDate"]).astimezone(zone) - timedelta(seconds=1))
        done_here = 0
        while limit is None or done_here < limit:
            date: datetime = dates.get_next(datetime)
            if date > end:  # a date equal to the end is played (Kestra: `next.isAfter(backfill.getEnd())`)
                context["nextExecutionDate"] = iso(next_schedule_date(trigger, now()))
                context["backfill"] = None
                break
            inputs = {**(trigger.get("inputs") or {}), **(backfill.get("inputs") or {})}
            labels = flow_labels(flow) + _labels(trigger.get("labels")) + _labels(backfill.get("labels"))
            variables = {"date": date.isoformat(), "previous": dates.get_prev(datetime).isoformat()}
            dates.get_next(datetime)
            variables["next"] = dates.get_next(datetime).isoformat()
            dates.get_prev(datetime)
            new_execution(state, flow, inputs, labels,
                          trigger={"id": key[2], "type": trigger["type"], "variables": variables})
            backfill["currentDate"] = iso(date + timedelta(seconds=1))
            done_here += 1
        created += done_here
    return created
