"""The flow runner's only stand-in: `wget` and `gunzip` on the PATH of a flow's shell command.

The command itself runs for real with /bin/sh; these two programs stand in for the network and the
decompression, at no cost (a symlink to the test's local CSV, so the benchmarks time no transfer). The
fake wget takes exactly the arguments the flows give the real one (`-q`, `-S`, `-qO`/`-O FILE`, one URL)
and answers as GNU wget 1.21 does (checked against the real one on a loopback server in
test_flow_runner.py): a published file exits 0; an unpublished one (HTTP 404) leaves an empty FILE,
prints the server's status line on stderr when `-S` is given (`  HTTP/1.1 404 Not Found`) and exits 8,
wget's "server issued an error response"; an unreachable server exits 4, wget's "network failure". The
fake gunzip takes one `FILE.gz` the fake wget wrote.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# the URL of each wget call in a rendered command: a quoted http(s) address of a .csv.gz
URL = re.compile(r'"(https?://[^"]+\.csv\.gz)"')
WGET_SERVER_ERROR = 8
WGET_NETWORK_FAILURE = 4
UNREACHABLE = "unreachable"


def install(bin_dir: Path, answers: dict[str, str | None]) -> None:
    """Writes the fake wget and gunzip into bin_dir; answers maps each URL to a local CSV, None (HTTP 404)
    or UNREACHABLE."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "answers.json").write_text(json.dumps(answers))
    for program in ("wget", "gunzip"):
        script = bin_dir / program
        script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
                          f"from tests.flows.download_stand_in import {program}\nsys.exit({program}(sys.argv))\n")
        script.chmod(0o755)


def wget(argv: list[str]) -> int:
    answers = json.loads((Path(argv[0]).parent / "answers.json").read_text())
    words, quiet, server_response, output = argv[1:], False, False, None
    while len(words) > 1:
        word = words.pop(0)
        if word in ("-q", "-qO", "-S") or word == "-O":
            quiet |= word.startswith("-q")
            server_response |= word == "-S"
            if word.endswith("O"):
                output = words.pop(0)
        else:
            return _refuse("wget", argv)
    if len(words) != 1 or output is None or not quiet or words[0] not in answers:
        return _refuse("wget", argv)
    target, csv = Path(output), answers[words[0]]
    if csv == UNREACHABLE:
        sys.stderr.write("failed: Connection refused.\n")
        return WGET_NETWORK_FAILURE
    if csv is None:
        target.write_bytes(b"")
        if server_response:
            sys.stderr.write("  HTTP/1.1 404 Not Found\n")
        return WGET_SERVER_ERROR
    target.unlink(missing_ok=True)
    target.symlink_to(Path(csv).resolve())
    if server_response:
        sys.stderr.write("  HTTP/1.1 200 OK\n")
    return 0


def gunzip(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].endswith(".gz") or not Path(argv[1]).is_symlink():
        return _refuse("gunzip", argv)
    packed = Path(argv[1])
    packed.rename(packed.with_suffix(""))
    return 0


def _refuse(program: str, argv: list[str]) -> int:
    sys.stderr.write(f"{program} stand-in: arguments the flows do not use: {argv[1:]}\n")
    return 2
