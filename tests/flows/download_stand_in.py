"""The flow runner's only stand-in: `wget` and `gunzip` on the PATH of a flow's shell command.

The command itself runs for real with /bin/sh; these two programs stand in for the network and the
decompression at no cost (a symlink to the test's local CSV; plain sh scripts, so the benchmarks time
no transfer and no interpreter start). The fake wget takes exactly the arguments the flows give the
real one (`-q`, `-S`, `-qO`/`-O FILE`, one URL) and answers as GNU wget 1.21 does (checked against the
real one on a loopback server in test_flow_runner.py): a published file exits 0; an unpublished one
(HTTP 404) leaves an empty FILE, prints the server's status line on stderr when `-S` is given
(`  HTTP/1.1 404 Not Found`) and exits 8, wget's "server issued an error response"; an unreachable
server leaves an empty FILE, prints nothing (`-q`) and exits 4, wget's "network failure". The fake gunzip takes one `FILE.gz` the fake wget wrote.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

# the URL of each wget call in a rendered command: a quoted http(s) address of a .csv.gz
URL = re.compile(r'"(https?://[^"]+\.csv\.gz)"')
WGET_SERVER_ERROR = 8
WGET_NETWORK_FAILURE = 4
UNREACHABLE = "unreachable"

_REFUSE = 'echo "$0 stand-in: arguments the flows do not use: $ARGS" >&2; exit 2'
_WGET = """#!/bin/sh
ARGS="$*"; quiet=; headers=; out=; url=
while [ $# -gt 0 ]; do
  case $1 in
    -q) quiet=1 ;;
    -S) headers=1 ;;
    -O) [ $# -gt 1 ] || { %(refuse)s; }; shift; out=$1 ;;
    -qO) [ $# -gt 1 ] || { %(refuse)s; }; quiet=1; shift; out=$1 ;;
    -*) %(refuse)s ;;
    *) [ -z "$url" ] || { %(refuse)s; }; url=$1 ;;
  esac
  shift
done
[ -n "$quiet" ] && [ -n "$out" ] && [ -n "$url" ] || { %(refuse)s; }
status() { [ -z "$headers" ] || echo "  HTTP/1.1 $1" >&2; }
case $url in
%(answers)s
  *) %(refuse)s ;;
esac
"""
_GUNZIP = """#!/bin/sh
ARGS="$*"
[ $# -eq 1 ] && [ -L "$1" ] && [ "${1%%.gz}" != "$1" ] || { %(refuse)s; }
mv "$1" "${1%%.gz}"
"""


def install(bin_dir: Path, answers: dict[str, str | None]) -> None:
    """Writes the fake wget and gunzip into bin_dir; answers maps each URL to a local CSV, None (HTTP 404)
    or UNREACHABLE."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for url, csv in answers.items():
        if csv == UNREACHABLE:
            # -q silences wget's "failed: Connection refused." too: only the exit code tells
            action = f': > "$out"; exit {WGET_NETWORK_FAILURE}'
        elif csv is None:
            action = f': > "$out"; status "404 Not Found"; exit {WGET_SERVER_ERROR}'
        else:
            action = f'rm -f "$out"; ln -s {shlex.quote(str(Path(csv).resolve()))} "$out"; status "200 OK"; exit 0'
        cases.append(f"  {shlex.quote(url)}) {action} ;;")
    scripts = {"wget": _WGET % {"refuse": _REFUSE, "answers": "\n".join(cases)}, "gunzip": _GUNZIP % {"refuse": _REFUSE}}
    for program, text in scripts.items():
        (bin_dir / program).write_text(text)
        (bin_dir / program).chmod(0o755)
