"""Every local command the README shows runs as written on a fresh clone.

The commands are read from the README itself: the ``wfp ...`` and ``curl ...`` lines of its ```bash
blocks (continuation lines joined) and its inline ```wfp ...``` spans, in the order they appear. They run
in a fresh copy of the repository (``fresh_copy``: no ``.env``, no ``.wfp/``, the example plugins) with
its dev server started as the Quick start does, on a free port instead of 8000, through a shell, with
``wfp`` on PATH. Each must exit 0, and each ``curl`` get a 2xx. What cannot run here is listed below
with the reason; a command that is neither run nor skipped by these rules fails the test.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from dataclasses import dataclass

import pytest
from fresh_copy import FreshCopy, fresh_copy  # noqa: F401 - fixture
from support import REPO

#: ``wfp`` subcommands that need AWS, a deployment or minutes: never run here.
SKIPPED_SUBCOMMANDS = {
    "deploy": "deploys to AWS (--rehearse: ~20 s against a stand-in; tests/local_dev/test_rehearsal.py runs it)",
    "synth": "synthesizes the CDK stack (needs the CDK CLI; tests/infrastructure covers it)",
    "smoke": "smoke-tests a deployed stack (tests/local_dev/test_cli_smoke.py runs it against a dev server)",
    "urls": "reads a deployed stack's outputs from CloudFormation",
    "profiles": "pushes profiles to a deployment's Secrets Manager (tests/local_dev/test_cli_deploy.py)",
    "bench": "the benchmark: minutes (tests/local_dev/test_bench.py)",
    "destroy": "deletes a deployed stack",
    "build": "builds the Lambda layer (pip install --target: minutes)",
    "dev": "starts a dev server: the test starts the copy's own, on a free port",
}
#: Shell lines of the README that are not ``wfp``/``curl`` commands and are not run.
SKIPPED_LINES = {
    "python3 -m venv .venv": "installs the project: the test runs in the installed virtual environment",
    "./tests/run.sh": "the whole test suite",
    "pip install": "installs dependencies",
}
#: What only a synopsis has: [--optional], key=value ..., a\\|b (a table's |), and placeholders.
SYNOPSIS = re.compile(r"\[|\.\.\.|\\\||(?<![\w-])(WORKFLOW|TOOL|ACTION|NAME|SECTION|REV|RUN_ID|[HPSTWURNA])(?![\w-])")
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
INLINE = re.compile(r"(?<!`)`((?:wfp|curl) [^`]+)`(?!`)")


@dataclass
class Command:
    text: str
    line: int
    script: str | None = None  # a whole block run as one script (it sets the variables its curl uses)


def readme_commands() -> list[Command]:
    readme = (REPO / "README.md").read_text()
    found: list[Command] = []
    for match in INLINE.finditer(readme):
        found.append(Command(match.group(1).strip(), readme.count("\n", 0, match.start()) + 1))
    for block in BASH_BLOCK.finditer(readme):
        start = readme.count("\n", 0, block.start()) + 2
        body = block.group(1)
        joined = re.sub(r"\\\n\s*", " ", body)
        lines = [(start + i, line.strip()) for i, line in enumerate(joined.splitlines()) if line.strip()]
        if any("$" in text and text.startswith("curl ") for _, text in lines):
            found.append(Command(next(t for _, t in lines if t.startswith("curl ")), start, script=body))
            continue
        for number, text in lines:
            if text.startswith(("wfp ", "curl ")) or any(text.startswith(p) for p in SKIPPED_LINES):
                found.append(Command(text, number))
    found.sort(key=lambda c: c.line)
    unique: dict[str, Command] = {}
    for command in found:
        unique.setdefault(command.text, command)
    return list(unique.values())


def skip_reason(command: Command) -> str | None:
    text = command.text
    for prefix, reason in SKIPPED_LINES.items():
        if text.startswith(prefix):
            return reason
    if text.startswith("wfp "):
        words = shlex.split(text, comments=True)
        if len(words) < 2 or words[1] in ("run", "tool") and len(words) == 2:
            return "a command named in prose, not an invocation"
        if words[1] in SKIPPED_SUBCOMMANDS:
            return SKIPPED_SUBCOMMANDS[words[1]]
        if SYNOPSIS.search(text.split("  #")[0]):
            return "a synopsis (placeholders), not an invocation"
    return None


def test_the_readme_has_the_commands_it_should():
    texts = [c.text for c in readme_commands()]
    assert "wfp tool mon_outil search --profile TEST -p query=test" in texts
    assert "curl http://127.0.0.1:8000/api/workflows" in texts
    assert any(c.script for c in readme_commands())  # the signed webhook
    runnable = [c for c in readme_commands() if skip_reason(c) is None]
    assert len(runnable) >= 12, [c.text for c in runnable]


SECRET = "readme-test-secret"


def test_readme_commands_run_as_written_on_a_fresh_clone(fresh_copy: FreshCopy):
    commands = readme_commands()
    skipped = {c.text: skip_reason(c) for c in commands if skip_reason(c)}
    runnable = [c for c in commands if c.text not in skipped]
    started = time.monotonic()
    fresh_copy.start()
    failures = []
    for command in runnable:
        script = command.script or command.text
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{fresh_copy.port}")
        if command.script:
            # the signed-webhook example: its workflow needs the secret, in .env as the README says (the
            # unsigned examples ran before it); POST /api/reload makes the server read it at once
            with (fresh_copy.root / ".env").open("a") as handle:
                handle.write(f"WFP_WEBHOOK_SECRET_INCOMING_WEBHOOK={SECRET}\n")
            script = script.replace("SECRET=...", f"SECRET={SECRET}")
            if fresh_copy.request_status("POST", "/api/reload") != 200:
                failures.append("POST /api/reload failed")
        if script.lstrip().startswith("curl ") or command.script:
            # -w: the status on its own line, -s: no progress meter, -S: errors still shown
            script = re.sub(r"(^|\n)(\s*)curl ", r"\1\2curl -sS -w '\\nHTTP %{http_code}\\n' ", script)
        done = subprocess.run(["bash", "-c", script], check=False, cwd=fresh_copy.root, env=fresh_copy.env,
                              capture_output=True, text=True, timeout=60)
        status = re.findall(r"^HTTP (\d{3})$", done.stdout, re.MULTILINE)
        ok = done.returncode == 0 and all(s.startswith("2") for s in status)
        if not ok:
            failures.append(f"README line {command.line}: {command.text}\n  exit {done.returncode}, HTTP {status}\n"
                            f"  stdout: {done.stdout[-800:]}\n  stderr: {done.stderr[-800:]}")
    assert failures == [], "\n".join(failures) + "\n--- server log ---\n" + fresh_copy.output()[-3000:]
    # a budget, so that it stays in the normal suite (about 25 s here: a server start, 6 wfp, 10 curl)
    assert time.monotonic() - started < 90
    # the signed example proved its signature: the secret is in effect, an unsigned call is refused
    assert fresh_copy.request_status("POST", "/api/webhooks/incoming_webhook") == 401
    # what was not run, and why (printed with -rA / on failure)
    print("\n".join(f"skipped: {text}  ({reason})" for text, reason in skipped.items()))
    assert set(skipped.values()) <= set(SKIPPED_SUBCOMMANDS.values()) | set(SKIPPED_LINES.values()) | {
        "a command named in prose, not an invocation", "a synopsis (placeholders), not an invocation"}


@pytest.mark.parametrize("text", ["wfp deploy --bootstrap", "wfp bench --quick", "wfp urls", "wfp synth"])
def test_aws_commands_are_skipped_with_a_reason(text: str):
    assert skip_reason(Command(text, 0))
