"""Which stack the policies are judging.

Under the engine, the analyzer process gets PULUMI_STACK in its environment. `ops plan` judges a stack
without the engine and says which one with `judging(stack)`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_JUDGED: ContextVar[str | None] = ContextVar("kestra_policy_judged_stack", default=None)


def current_stack() -> str | None:
    return _JUDGED.get() or os.environ.get("PULUMI_STACK") or None


@contextmanager
def judging(stack: str) -> Iterator[None]:
    token = _JUDGED.set(stack)
    try:
        yield
    finally:
        _JUDGED.reset(token)
