"""`ops run FLOW`: create an execution (inputs checked against the flow first) and, with --wait, follow it."""

from __future__ import annotations

import click

from kestra_ops.errors import OpsError


def _pairs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    from kestra_ops.flow_inputs import parse_pairs

    try:
        return parse_pairs(value)
    except OpsError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.argument("flow")
@click.option("-i", "--input", "inputs", multiple=True, metavar="KEY=VALUE", callback=_pairs,
              help="An input of the flow (repeatable); checked against the flow's declared inputs.")
@click.option("-n", "--namespace", help="The flow's namespace (default: kestra_namespace from the outputs).")
@click.option("--wait", is_flag=True, help="Follow the execution to its end; exit 1 unless it ends in SUCCESS.")
@click.option("--timeout", type=click.FloatRange(0), default=3600.0, show_default=True,
              help="With --wait: seconds to follow it (it keeps running on the server after that).")
@click.option("--poll-interval", type=click.FloatRange(0), default=1.0, show_default=True,
              help="With --wait: seconds between two looks at the execution (one request each).")
@click.option("--json", "json_flag", is_flag=True, help="Print the execution document (the final one with --wait).")
@click.pass_obj
def run(session, flow: str, inputs: dict[str, str], namespace: str | None, wait: bool, timeout: float,
        poll_interval: float, json_flag: bool) -> None:
    """Create an execution of FLOW; with --wait follow it and end with its state.

    \b
    Example:  ops --stack dev run 02_postgres_taxi -i taxi=green -i year=2019 -i month=01 --wait
    """
    from kestra_ops import executions
    from kestra_ops.flow_inputs import check_inputs
    from kestra_ops.report import Reporter

    out = Reporter(True, session.redact) if json_flag else session.reporter
    namespace = namespace or session.require_outputs("kestra_namespace").kestra_namespace
    with session.client() as client:
        found = client.get_or_none(f"/flows/{namespace}/{flow}")
        if found is None:
            raise OpsError(f"flow {namespace}.{flow} is not on the server at {client.url}: seed it first (ops seed-flows)")
        document = found.json()
        check_inputs(document, inputs)
        execution = executions.create_execution(client, namespace, flow, inputs)
        url = _ui_url(client, execution)
        out.line(f"created execution {execution['id']} of {namespace}.{flow}: {url}")
        if not wait:
            out.document(execution)
            return
        declared = executions.count_tasks(document.get("tasks"))
        with out.follow(f"{namespace}.{flow}") as show:
            execution, ended = executions.follow(
                client, execution, declared, timeout_s=timeout, interval_s=poll_interval,
                show=lambda step: show(step.done, step.total, step.text))
        out.document(execution)
        state = execution["state"]["current"]
        if not ended:
            step = executions.progress(execution, declared)
            raise OpsError(f"execution {execution['id']} still {state} after {timeout:g} s ({step.text}); "
                           f"it goes on running on the server: {url}")
        if state == "SUCCESS":
            out.line(f"execution {execution['id']} SUCCESS ({len(execution.get('taskRunList') or [])} task runs)")
            return
        raise OpsError(_failure(client, execution, state, url))


def _failure(client, execution: dict, state: str, url: str) -> str:
    from kestra_ops import executions

    task = executions.failed_task(execution)
    lines = executions.error_lines(client, execution["id"], task, "WARN" if state == "WARNING" else "ERROR")
    counted = " (WARNING counts as a failure)" if state == "WARNING" else ""
    text = f"execution {execution['id']} ended {state}{counted}" + (f", failed task: {task}" if task else "")
    if lines:
        text += "\nlast error lines:\n" + "\n".join(f"  {line}" for line in lines)
    return text + f"\n{url}"


def _ui_url(client, execution: dict) -> str:
    """The execution's page in Kestra's UI (ExecutionController.executionUrl: /ui[/tenant]/executions/ns/flow/id)."""
    tenant = "/main" if client.server.api.endswith("/main") else ""
    return f"{client.url}/ui{tenant}/executions/{execution['namespace']}/{execution['flowId']}/{execution['id']}"
