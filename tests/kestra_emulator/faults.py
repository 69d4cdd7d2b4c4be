"""Deterministic fault injection: a seeded draw per API request decides whether it fails, and how.

- "503": the server answers 503 (optionally with Retry-After) before anything is applied;
- "lost": the request IS applied, then the connection is closed without a response (a response lost on
  the way back, the case that makes blind retries of creates dangerous).

`only(method, path)` narrows the faults to some requests (e.g. the create of an execution) and `limit` caps
how many are injected, so a test can lose exactly the one answer it is about.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable

FAULT_KINDS = ("503", "lost")


class FaultPlan:
    def __init__(self, rate: float, kinds: Iterable[str], seed: int,
                 only: Callable[[str, str], bool] | None = None, limit: int | None = None) -> None:
        kinds = tuple(kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"faults must be a non-empty subset of {FAULT_KINDS}, got {kinds}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], got {rate}")
        self.rate = rate
        self.kinds = kinds
        self._random = random.Random(seed)
        self._only = only
        self._left = limit
        self._lock = threading.Lock()

    def draw(self, method: str, path: str) -> str | None:
        """The fault for the next API request, or None."""
        if self.rate == 0.0 or (self._only is not None and not self._only(method, path)):
            return None
        with self._lock:
            if self._left == 0 or self._random.random() >= self.rate:
                return None
            if self._left is not None:
                self._left -= 1
            return self._random.choice(self.kinds)
