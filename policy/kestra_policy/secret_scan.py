"""Finding secrets written in plain text: private keys, well-known token formats, and secret-named
settings (PASSWORD=…, password: …, a password inside a URL) holding a literal instead of a reference.

Findings name where the secret is, never its value.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

SECRET_NAME = re.compile(
    r"(?i)(?:^|[_.\-])(password|passwd|secret|token|api[_\-]?key|private[_\-]?key|credentials?|"
    r"client[_\-]?secret|access[_\-]?key)(?:$|[_.\-])"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# base64 of '{\n  "type": "service_account",' - how pulumi-gcp's Key.privateKey starts
_BASE64_SA_KEY = "ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs"
_TOKENS = {
    "a GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    "an AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "a Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    "a Google OAuth access token": re.compile(r"\bya29\.[A-Za-z0-9_\-]{20,}"),
    "a Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "a GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),
}
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|-\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*(?:=|:(?=\s|$))\s*(.*?)\s*$")
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.\-]*://[^/\s:@]+:([^@\s/]+)@")

# Defaults from the course's compose files and common placeholders: never acceptable as a password.
KNOWN_DEFAULTS = frozenset({
    "k3str4", "root", "admin", "password", "postgres", "admin1234!", "changeme", "secret", "kestra",
    "pass", "test", "example", "letmein", "12345678",
})


@dataclass(frozen=True)
class Finding:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


_SECRET_MANAGER_NAME = re.compile(r"^projects/[^/\s]+/secrets/[^/\s]+(/versions/[^/\s]+)?$")


def is_reference(value: str) -> bool:
    """A value that points at a secret rather than holding it: $VAR, ${VAR}, $(cmd), {{ secret('X') }},
    a file path, a Secret Manager name (projects/P/secrets/S[/versions/V])."""
    value = value.strip().strip("\"'")
    return (not value or value.startswith(("$", "/", "{{", "!")) or "{{" in value or "${" in value
            or bool(_SECRET_MANAGER_NAME.match(value)))


def looks_generated(value: str, min_length: int) -> bool:
    """A long random string (what pulumi-random generates), not a word a person typed or a known default."""
    value = value.strip().strip("\"'")
    if len(value) < min_length or value.lower() in KNOWN_DEFAULTS or any(c.isspace() for c in value):
        return False
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value)))
    return classes >= 2


def key_material(text: str, where: str) -> Iterator[Finding]:
    if _PRIVATE_KEY.search(text) or _BASE64_SA_KEY in text:
        yield Finding(where, "contains a private key (a service-account key or similar)")
    for what, pattern in _TOKENS.items():
        if pattern.search(text):
            yield Finding(where, f"contains what looks like {what}")


def literal_secrets(text: str, where: str, accept_generated: bool, min_length: int) -> Iterator[Finding]:
    """Secret-named settings and URL passwords in `text` (one value, a script, a YAML or .env document)
    whose value is a literal. With accept_generated, a literal that looks generated is accepted."""

    def unacceptable(value: str) -> bool:
        if is_reference(value):
            return False
        return not (accept_generated and looks_generated(value, min_length))

    for number, line in enumerate(text.splitlines(), start=1):
        location = f"{where} line {number}" if "\n" in text else where
        match = _ASSIGNMENT.match(line)
        if match and SECRET_NAME.search(match.group(1)) and unacceptable(match.group(2)):
            yield Finding(location, f"{match.group(1)} is set to a literal value instead of a reference to a secret")
        for url_password in _URL_PASSWORD.findall(line):
            if unacceptable(url_password):
                yield Finding(location, "a URL carries a literal password")


def env_findings(entry: str, where: str, allowed_names: frozenset[str], min_length: int) -> Iterator[Finding]:
    """One Docker env entry NAME=value: a secret-named variable may hold a generated credential;
    anything else secret-looking, inside it too (a config document in a variable), is reported."""
    name, _, value = entry.partition("=")
    if name in allowed_names:
        return
    location = f"{where} {name}"
    yield from key_material(value, location)
    if SECRET_NAME.search(name) and not is_reference(value) and not looks_generated(value, min_length):
        yield Finding(location, "is a secret-named variable holding a literal that is not a generated credential")
    if "\n" in value or "://" in value:
        yield from literal_secrets(value, location, accept_generated=True, min_length=min_length)
