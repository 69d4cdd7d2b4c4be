"""`ops wait`: until Kestra answers /ping and accepts the credentials."""

from __future__ import annotations

import click

from kestra_ops.errors import OpsError


@click.command()
@click.option("--timeout", type=click.FloatRange(0), default=120.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
def wait(session, timeout: float) -> None:
    """Wait until Kestra answers /ping and the credentials work.

    \b
    Example:  ops --stack dev wait --timeout 300
    """
    with session.client() as client:
        info = wait_until_ready(client, timeout)
    session.reporter.line(f"Kestra {info['version']} at {info['url']} is up; credentials accepted")
    session.reporter.document(info)


def wait_until_ready(client, timeout: float) -> dict:
    import time

    from kestra_ops.errors import KestraConnectionError, KestraHTTPError

    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            break
        except (KestraConnectionError, KestraHTTPError) as error:
            if isinstance(error, KestraHTTPError) and error.status < 500:
                raise
            if time.monotonic() >= deadline:
                reason = error.reason if isinstance(error, KestraConnectionError) else f"HTTP {error.status}"
                raise OpsError(f"Kestra at {client.url} did not answer /ping within {timeout:g} s ({reason})") from None
        client.sleep(max(0.0, min(1.0, deadline - time.monotonic())))
    server = client.server
    client.get("/flows/search", params={"page": 1, "size": 1})  # 401 here: wrong username or password
    return {"url": client.url, "version": server.version, "api": server.api}
