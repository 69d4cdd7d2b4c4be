"""When and how long to wait before retrying a request: bounded attempts, exponential backoff, jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, failed_attempts: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Exponential backoff with 'equal jitter'; a server's Retry-After is honoured, both capped."""
        ceiling = min(self.max_delay_s, self.backoff_s * 2 ** (failed_attempts - 1))
        wait = rng.uniform(ceiling / 2, ceiling)
        if retry_after_s is not None:
            wait = max(wait, retry_after_s)
        return min(wait, self.max_delay_s)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
