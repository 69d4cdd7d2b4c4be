"""Output: a progress bar only on a terminal, plain lines otherwise, one JSON document with --json."""

from __future__ import annotations

import io
import json

from kestra_ops.report import Redactor, Reporter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_with_progress(out: io.StringIO, json_mode: bool = False) -> str:
    reporter = Reporter(json_mode, Redactor(), out=out, err=io.StringIO())
    with reporter.progress(3, "Seeding flows") as advance:
        for _ in range(3):
            advance()
    reporter.line("done")
    return out.getvalue()


def test_progress_bar_is_drawn_on_a_terminal() -> None:
    assert "Seeding flows" in run_with_progress(Terminal())


def test_no_progress_bar_when_output_is_not_a_terminal() -> None:
    assert run_with_progress(io.StringIO()) == "done\n"


def test_json_mode_prints_only_the_document() -> None:
    out = io.StringIO()
    reporter = Reporter(True, Redactor(), out=out, err=io.StringIO())
    reporter.line("plain line")
    with reporter.progress(2, "x") as advance:
        advance()
    reporter.document({"writes": 0})
    assert json.loads(out.getvalue()) == {"writes": 0}


def test_warnings_go_to_stderr_redacted() -> None:
    redact = Redactor()
    redact.add("TopSecretValue")
    err = io.StringIO()
    Reporter(False, redact, out=io.StringIO(), err=err).warn("server said TopSecretValue")
    assert err.getvalue() == "Warning: server said ***\n"


def _follow(out: io.StringIO, json_mode: bool = False) -> str:
    redact = Redactor()
    redact.add("TopSecretValue")
    reporter = Reporter(json_mode, redact, out=out, err=io.StringIO())
    with reporter.follow("zoomcamp.hello") as show:
        for done, text in ((0, "RUNNING: 0/2, at a"), (0, "RUNNING: 0/2, at a"), (1, "RUNNING: 1/2, at TopSecretValue")):
            show(done, 2, text)
    return out.getvalue()


def test_follow_draws_a_bar_on_a_terminal_and_no_lines() -> None:
    drawn = _follow(Terminal())
    assert "zoomcamp.hello" in drawn and "1/2" in drawn
    assert "RUNNING: 0/2, at a\n" not in drawn and "TopSecretValue" not in drawn


def test_follow_prints_each_change_once_as_a_line_elsewhere_and_nothing_with_json() -> None:
    assert _follow(io.StringIO()) == "RUNNING: 0/2, at a\nRUNNING: 1/2, at ***\n"
    assert _follow(io.StringIO(), json_mode=True) == ""


def test_a_json_document_masks_a_secret_that_json_escapes() -> None:
    # json.dumps writes `"`, `\` and non-ASCII escaped: the raw secret is not in the text any more.
    redact = Redactor()
    secret = 'Pa"ss\\wörd-42'
    redact.add(secret)
    out = io.StringIO()
    Reporter(True, redact, out=out, err=io.StringIO()).document({"message": f"login with {secret} refused"})
    assert json.loads(out.getvalue()) == {"message": "login with *** refused"}
