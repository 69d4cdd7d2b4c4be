"""What every command shares: the global options, the stack outputs (loaded once, on first use), the
Kestra client, the output reporter and the redactor that knows every secret value."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kestra_ops.errors import OutputsError
from kestra_ops.report import Redactor, Reporter

if TYPE_CHECKING:
    from kestra_ops.client import KestraClient
    from kestra_ops.outputs import StackOutputs
    from kestra_ops.retry import RetryPolicy


@dataclass(frozen=True)
class GlobalOptions:
    stack: str | None
    outputs_file: Path | None
    url: str | None
    username: str | None
    password: str | None = field(repr=False)
    json_output: bool
    retries: int
    retry_backoff_s: float
    retry_max_delay_s: float


class Session:
    def __init__(self, options: GlobalOptions) -> None:
        self.options = options
        self.redact = Redactor()
        self.redact.add(options.password)
        self.reporter = Reporter(options.json_output, self.redact)

    @cached_property
    def outputs(self) -> StackOutputs | None:
        from kestra_ops.outputs import load_outputs

        outputs = load_outputs(self.options.stack, self.options.outputs_file)
        if outputs is not None:
            self.redact.add(*outputs.secret_values())
        return outputs

    def require_outputs(self, key: str) -> StackOutputs:
        outputs = self.outputs
        if outputs is None:
            raise OutputsError(f"{key} comes from the stack outputs: pass --stack NAME or --outputs FILE")
        if getattr(outputs, key) is None:
            raise OutputsError(f"{outputs.source}: {key}: missing from the stack outputs")
        return outputs

    @property
    def retry_policy(self) -> RetryPolicy:
        from kestra_ops.retry import RetryPolicy

        return RetryPolicy(self.options.retries, self.options.retry_backoff_s, self.options.retry_max_delay_s)

    def client(self) -> KestraClient:
        from kestra_ops.client import KestraClient
        from kestra_ops.outputs import resolve_connection

        options = self.options
        connection = resolve_connection(self.outputs, options.url, options.username, options.password)
        self.redact.add(connection.password)
        return KestraClient(connection, retry=self.retry_policy)
