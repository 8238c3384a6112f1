"""Load test of the local platform: concurrent signed webhooks, then the same with a kill -9 in the middle.

    python -m local_dev.loadtest                  # 200 concurrent calls, twice (the second with a kill -9)
    python -m local_dev.loadtest --calls 50 --no-kill

It starts the dev server (``python -m local_dev``) in a subprocess over a temporary state folder and a
temporary plugins folder holding one webhook workflow, ``load_probe``, that sleeps a little and
reports which call it was. Every call is signed (HMAC-SHA256 with a timestamp) and carries a unique
sequence number. Then it reads the run history back and checks:

- phase 1: every accepted call (202) has exactly one run, and every run completed;
- phase 2: the server is killed with SIGKILL once half the calls are accepted, then restarted; every
  call that was accepted still has exactly one run, finished (completed after the restart, or marked
  interrupted): none lost, none duplicated. Calls whose answer the kill cut off may have been recorded
  anyway; they are counted apart.

It prints the figures (accepted, completed, interrupted, lost, duplicated, throughput) and exits 1 when
a run was lost or duplicated. ``tests/local_dev/test_loadtest.py`` runs a smaller version in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.settings import REPO_ROOT

WORKFLOW = "load_probe"
CONFIG = {"name": "Load probe", "description": "Sleeps a little and says which call it was.",
          "triggers": ["webhook"], "timeout_seconds": 30,
          "inputs_schema": [{"name": "seq", "type": "integer", "required": True},
                            {"name": "phase", "type": "integer", "required": True},
                            {"name": "delay", "type": "number", "required": False, "default": 0.02}]}
CODE = '''import time


def execute(data, tools):
    time.sleep(data["delay"])
    return {"status": "success", "message": f"phase {data['phase']} seq {data['seq']}"}
'''
FINAL = {"success", "error", "timed_out", "interrupted", "skipped", "cancelled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``python -m local_dev`` on a port, over one state folder; restartable, killable."""

    root: Path
    secret: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WFP_", "AWS_"))}
        env.update({"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
                    "WFP_PLUGINS_DIR": str(self.root / "plugins"), "WFP_LOCAL_STATE": str(self.root / "state"),
                    "WFP_ENV_FILE": str(self.root / "dotenv"),
                    f"WFP_WEBHOOK_SECRET_{WORKFLOW.upper()}": self.secret})
        return env

    @property
    def log(self) -> Path:
        return self.root / f"server-{self.starts}.log"

    def start(self, timeout: float = 90) -> float:
        self.starts += 1
        started = time.monotonic()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local_dev", "--port", str(self.port), "--no-watch"],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if request(self.port, "GET", "/api/health")[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 60) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def signed_call(port: int, secret: str, data: dict[str, Any]) -> tuple[int, Any]:
    body = json.dumps(data).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return request(port, "POST", f"/api/webhooks/{WORKFLOW}", body, {
        "Content-Type": "application/json", "X-Signature-Timestamp": stamp, "X-Signature-256": f"sha256={signature}"})


def history(port: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = request(port, "GET", f"/api/workflows/logs/{WORKFLOW}?limit=100{cursor}")
        if status != 200:
            raise RuntimeError(f"history answered {status}: {page}")
        runs += page["runs"]
        if not page["next_cursor"]:
            return runs
        cursor = f"&cursor={page['next_cursor']}"


@dataclass
class Phase:
    name: str
    calls: int
    accepted: dict[int, str] = field(default_factory=dict)  # seq -> run id
    refused: dict[int, str] = field(default_factory=dict)  # seq -> status or error
    fire_seconds: float = 0.0
    settle_seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


def fire(server: Server, phase: Phase, number: int, delay: float, kill_after: int | None = None) -> None:
    """All calls at once (one thread each, released together); optionally kill -9 the server once
    ``kill_after`` calls are accepted."""
    lock = threading.Lock()
    killed = threading.Event()
    barrier = threading.Barrier(phase.calls)

    def one(seq: int) -> None:
        barrier.wait()
        try:
            status, body = signed_call(server.port, server.secret, {"seq": seq, "phase": number, "delay": delay})
        except (OSError, http.client.HTTPException) as exc:  # the kill cut this call off (or its answer)
            with lock:
                phase.refused[seq] = type(exc).__name__
            return
        with lock:
            if status == 202:
                phase.accepted[seq] = body["run_id"]
                if kill_after is not None and len(phase.accepted) >= kill_after and not killed.is_set():
                    killed.set()
                    server.kill()
            else:
                phase.refused[seq] = f"HTTP {status}: {body}"

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=phase.calls) as pool:
        list(pool.map(one, range(phase.calls)))
    phase.fire_seconds = time.monotonic() - started


def settle(server: Server, phase: Phase, number: int, timeout: float) -> list[dict[str, Any]]:
    """Wait until every accepted run is finished (or ``timeout``); the runs of this phase."""
    started = time.monotonic()
    tag = f"phase {number} "
    while True:
        runs = history(server.port)
        finished = {r["run_id"] for r in runs if r["status"] in FINAL}
        if set(phase.accepted.values()) <= finished or time.monotonic() - started > timeout:
            phase.settle_seconds = time.monotonic() - started
            ids = set(phase.accepted.values())
            return [r for r in runs if r["run_id"] in ids or (r.get("message") or "").startswith(tag)]
        time.sleep(0.25)


def tally(phase: Phase, runs: list[dict[str, Any]]) -> dict[str, Any]:
    by_id = {r["run_id"]: r for r in runs}
    seqs: dict[int, int] = {}
    for run in runs:
        message = run.get("message") or ""
        if message.startswith("phase "):
            seq = int(message.rsplit(" ", 1)[1])
            seqs[seq] = seqs.get(seq, 0) + 1
    accepted_ids = set(phase.accepted.values())
    mine = [by_id[i] for i in accepted_ids if i in by_id]
    statuses = [r["status"] for r in mine]
    total = phase.fire_seconds + phase.settle_seconds
    return {
        "calls": phase.calls,
        "accepted": len(phase.accepted),
        "cut_off": len(phase.refused),
        "completed": statuses.count("success"),
        "interrupted": statuses.count("interrupted"),
        "failed": sum(s in ("error", "timed_out") for s in statuses),
        "retried": sum(1 for r in mine if (r.get("attempt") or 1) > 1),
        "lost": len([i for i in accepted_ids if i not in by_id or by_id[i]["status"] not in FINAL]),
        "duplicated": sum(n - 1 for n in seqs.values() if n > 1) + len(accepted_ids) - len(set(phase.accepted)),
        "recorded_without_answer": len([r for r in runs if r["run_id"] not in accepted_ids]),
        "accept_rate_per_s": round(len(phase.accepted) / phase.fire_seconds, 1) if phase.fire_seconds else None,
        "end_to_end_per_s": round(statuses.count("success") / total, 1) if total else None,
        "fire_s": round(phase.fire_seconds, 2),
        "settle_s": round(phase.settle_seconds, 2),
    }


def prepare(root: Path) -> None:
    plugins = root / "plugins"
    for folder in ("tools", "interfaces", f"workflows/{WORKFLOW}"):
        (plugins / folder).mkdir(parents=True, exist_ok=True)
    for init in ("__init__.py", "tools/__init__.py", "workflows/__init__.py", "interfaces/__init__.py"):
        (plugins / init).write_text("")
    (plugins / "tools" / "base.py").write_text("from functions.registry.base_tool import BaseTool  # noqa: F401\n")
    (plugins / "workflows" / WORKFLOW / "config.json").write_text(json.dumps(CONFIG, indent=2))
    (plugins / "workflows" / WORKFLOW / "main.py").write_text(CODE)
    (root / "dotenv").write_text("# load test: no profiles\n")


def run(calls: int = 200, kill: bool = True, delay: float = 0.02, timeout: float = 180,
        keep: bool = False, out: Any = sys.stdout) -> list[dict[str, Any]]:
    """Both phases (the second only with ``kill``); the figures of each, also printed to ``out``."""
    root = Path(tempfile.mkdtemp(prefix="wfp-load-"))
    prepare(root)
    server = Server(root, secrets.token_urlsafe(24))
    results = []
    try:
        startup = server.start()
        print(f"server up in {startup:.1f} s on port {server.port} (state {root / 'state'})", file=out)
        first = Phase("concurrent", calls)
        fire(server, first, 1, delay)
        first.figures = tally(first, settle(server, first, 1, timeout))
        results.append({"phase": first.name, **first.figures})
        if kill:
            second = Phase("kill -9 in the middle", calls)
            fire(server, second, 2, delay, kill_after=max(1, calls // 2))
            restart = server.start()
            print(f"killed with SIGKILL after {len(second.accepted)} accepted calls; restarted in {restart:.1f} s",
                  file=out)
            second.figures = tally(second, settle(server, second, 2, timeout))
            results.append({"phase": second.name, **second.figures})
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    report(results, out)
    return results


def report(results: list[dict[str, Any]], out: Any) -> None:
    keys = ["calls", "accepted", "cut_off", "completed", "interrupted", "failed", "retried", "lost", "duplicated",
            "recorded_without_answer", "accept_rate_per_s", "end_to_end_per_s", "fire_s", "settle_s"]
    width = max(len(k) for k in keys)
    print("", file=out)
    print(f"{'':{width}}  " + "  ".join(f"{r['phase']:>22}" for r in results), file=out)
    for key in keys:
        print(f"{key:{width}}  " + "  ".join(f"{str(r[key]):>22}" for r in results), file=out)


def ok(results: list[dict[str, Any]]) -> bool:
    first = results[0]
    clean = first["accepted"] == first["calls"] == first["completed"] and first["recorded_without_answer"] == 0
    return clean and all(r["lost"] == 0 and r["duplicated"] == 0 for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_dev.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="concurrent webhook calls per phase (default 200)")
    parser.add_argument("--no-kill", action="store_true", help="skip the phase with a kill -9 of the server")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each run sleeps (default 0.02)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (state, server logs)")
    args = parser.parse_args(argv)
    results = run(args.calls, kill=not args.no_kill, delay=args.delay, keep=args.keep)
    if not ok(results):
        print("\nFAILED: runs were lost or duplicated, or the first phase did not complete every call",
              file=sys.stderr)
        return 1
    print("\nOK: no accepted run lost, none duplicated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
