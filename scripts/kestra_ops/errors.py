"""Typed errors. Every expected failure of `ops` is an OpsError; the CLI turns it into one error line."""

from __future__ import annotations


class OpsError(Exception):
    """An expected failure: bad input, an unreachable server, a rejected request."""


class OutputsError(OpsError):
    """The stack outputs (or the flags/environment overriding them) are missing or malformed."""


class ValidationFailed(OpsError):
    """Local or server-side validation found problems; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        if len(problems) == 1:
            message = f"{problems[0]} (nothing written)"
        else:
            message = f"{len(problems)} problems, nothing written:\n" + "\n".join(f"  {p}" for p in problems)
        super().__init__(message)


class KestraError(OpsError):
    """A failed exchange with the Kestra API."""


class KestraConnectionError(KestraError):
    def __init__(self, method: str, url: str, reason: str, not_sent: bool = False) -> None:
        self.method, self.url, self.reason = method, url, reason
        self.not_sent = not_sent  # the request certainly never reached the server (connect failed)
        super().__init__(f"cannot reach Kestra: {method} {url}: {reason}")


class KestraHTTPError(KestraError):
    """A non-success status, with Kestra's own message and per-field errors when it sent them."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        message: str = "",
        details: tuple[tuple[str, str], ...] = (),
        retry_after: float | None = None,
    ) -> None:
        self.method, self.url, self.status, self.message, self.details = method, url, status, message, details
        self.retry_after = retry_after
        text = f"{method} {url} -> HTTP {status}"
        if message:
            text += f": {message}"
        if details:
            text += " (" + "; ".join(f"{path}: {msg}" if path else msg for path, msg in details) + ")"
        super().__init__(text)


class KestraAuthError(KestraHTTPError):
    def __init__(self, method: str, url: str) -> None:
        super().__init__(method, url, 401)
        self.args = (f"wrong username or password for Kestra ({method} {url} -> HTTP 401)",)

    def __str__(self) -> str:
        return str(self.args[0])
