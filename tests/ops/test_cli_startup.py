"""`ops --help` must start fast: it may not import httpx, rich, yaml, croniter or pulumi (timed in benchmarks/)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("httpx", "rich", "yaml", "croniter", "pulumi", "infra")
COMMANDS = ("wait", "seed-flows", "seed-kv", "seed-backfills", "seed", "status", "run", "plan")


def test_help_lists_every_command_without_heavy_imports() -> None:
    probe = (
        "import json, sys\n"
        "from kestra_ops.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='ops')\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    *help_text, loaded = done.stdout.splitlines()
    assert json.loads(loaded) == []
    for command in COMMANDS:
        assert any(line.strip().startswith(command + " ") for line in help_text), command


def test_every_command_help_shows_an_example(run_ops) -> None:
    for command in COMMANDS:
        result = run_ops(command, "--help")
        assert result.exit_code == 0 and "Example:  ops " in result.stdout, command
