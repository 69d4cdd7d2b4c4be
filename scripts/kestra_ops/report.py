"""Output: plain lines (or one JSON document with --json), a rich progress bar only on a terminal, and a
redaction pass so that no secret value can reach the screen even through a server's error message."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

MIN_REDACTED = 4  # shorter values (e.g. "EU") are not secrets and would mangle ordinary words


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *values: str | None) -> None:
        for value in values:
            if value and len(value) >= MIN_REDACTED:
                # also as a --json document writes it: `"`, `\` and non-ASCII escaped
                self._secrets.update((value, json.dumps(value)[1:-1]))

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "***")
        return text


class Reporter:
    def __init__(self, json_mode: bool, redact: Redactor, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.redact = redact
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def line(self, text: str) -> None:
        if not self.json_mode:
            print(self.redact(text), file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(self.redact(f"Warning: {text}"), file=self.err, flush=True)

    def document(self, data: Any) -> None:
        if self.json_mode:
            print(self.redact(json.dumps(data, indent=2, sort_keys=True)), file=self.out, flush=True)

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[], None]]:
        """Yields an `advance()`; draws a bar only when writing to a terminal and not in --json mode."""
        if self.json_mode or total == 0 or not self.out.isatty():
            yield lambda: None
            return
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(file=self.out), transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task)

    @contextmanager
    def follow(self, label: str) -> Iterator[Callable[[int, int, str], None]]:
        """Yields `show(done, total, text)` for something that runs on the server: on a terminal a bar
        (done of total, `text` beside it); elsewhere `text` as a line each time it changes; nothing with --json."""
        if self.json_mode:
            yield lambda done, total, text: None
            return
        if not self.out.isatty():
            shown: list[str] = []

            def line(done: int, total: int, text: str) -> None:
                if not shown or shown[-1] != text:
                    shown.append(text)
                    self.line(text)

            yield line
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}", markup=False))
        with Progress(*columns, console=Console(file=self.out), transient=True) as bar:
            task = bar.add_task("", total=None)
            yield lambda done, total, text: bar.update(task, completed=done, total=total or None,
                                                       description=self.redact(text))
