"""Usage errors of ``wfp run`` and ``wfp tool`` exit 2 with one line on stderr, no traceback, and start
nothing (no local AWS)."""

from __future__ import annotations

import pytest
from local_platform import LocalSetup, local  # noqa: F401 - fixture


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "hello_world", "-i", "name"], "-i expects key=value, got 'name'"),
    (["run", "hello_world", "-i", "=Ada"], "-i expects key=value, got '=Ada'"),
    (["run", "hello_world", "--json", "{bad"], "--json is not valid JSON"),
    (["run", "hello_world", "--json", "[1, 2]"], "--json expects a JSON object"),
    (["tool", "mon_outil", "search", "--profile", "DEMO", "-p", "query"], "-p expects key=value, got 'query'"),
])
def test_usage_errors_exit_2_with_one_line(local: LocalSetup, argv: list[str], message: str):
    done = local.cli(*argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0] and lines[0].startswith(f"wfp {argv[0]}: error: ")
    assert "Traceback" not in done.stderr
    assert not local.state.exists()  # refused before the local AWS started


def test_argparse_usage_errors_still_exit_2(local: LocalSetup):
    done = local.cli("run")
    assert done.returncode == 2 and "the following arguments are required: workflow" in done.stderr
