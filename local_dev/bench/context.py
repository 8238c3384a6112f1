"""What every benchmark section shares: a work folder, a moto server, plugin sets, child processes.

The moto server runs in its own process (like DynamoDB, it is not in the measured process: its
work never competes for the measured process's GIL) and every AWS call of the benchmark, in this
process or in a child, goes to it through ``AWS_ENDPOINT_URL``: real HTTP requests, no credentials.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from functions.settings import REPO_ROOT

from . import plugins

STAGE = "bench"
PREFIX = "wfp-bench"
ADMIN_TOKEN = "bench-admin-token"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_REGION": "us-east-1"}
#: Set in the children as the Lambda runtime sets it; Powertools turns tracing on when it sees
#: ``LAMBDA_TASK_ROOT``, so the api handler is measured with tracing on, as deployed. X-Ray segments
#: go to a UDP address nobody listens on.
LAMBDA_ENV = {"LAMBDA_TASK_ROOT": str(REPO_ROOT), "AWS_LAMBDA_FUNCTION_NAME": "wfp-bench-api",
              "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
              "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
MOTO_SCRIPT = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
server.stop()
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the handlers print a JSON log line and an EMF document per
    run (as on Lambda), which would bury the table."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class Bench:
    """Options and shared resources of one benchmark run; ``close()`` stops what it started."""

    workdir: Path
    quick: bool = False
    rounds: int = 15
    #: Measure again what is cached between runs (the naive install of the layer section).
    refresh: bool = False
    #: A git revision whose api handler the cold-start section measures beside this tree's, in the same
    #: rounds (``--against``): a change's before and after, side by side.
    against: str | None = None
    #: Synthetic runs of the scale section (``--runs``; None: its default, or --quick's).
    runs: int | None = None
    out: TextIO = sys.stdout
    _moto: subprocess.Popen[str] | None = None
    _endpoint: str | None = None
    _queue_url: str | None = None
    _plugin_sets: dict[str, plugins.PluginSet] = field(default_factory=dict)

    @classmethod
    def create(cls, workdir: Path | None = None, **options: Any) -> "Bench":
        folder = workdir or Path(tempfile.mkdtemp(prefix="wfp-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        return cls(workdir=folder, **options)

    def repeat(self, full: int, quick: int = 1) -> int:
        return quick if self.quick else full

    def source_tree(self, revision: str) -> Path:
        """The repository's files at ``revision`` (``git archive``), extracted once into the work folder."""
        tree = self.workdir / f"tree-{revision.replace('/', '_')}"
        if not tree.is_dir():
            listed = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", revision],
                                    capture_output=True)
            if listed.returncode != 0:
                raise RuntimeError(f"--against {revision}: git cannot archive it "
                                   f"({listed.stderr.decode(errors='replace').strip()}); give a commit, tag or "
                                   "branch of this repository")
            tree.mkdir(parents=True)
            subprocess.run(["tar", "-x", "-C", str(tree)], input=listed.stdout, check=True)
        return tree

    # ----- AWS ------------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """The moto server (started on first use), tables created, this process pointed at it."""
        if self._endpoint is None:
            self._moto = subprocess.Popen([sys.executable, "-c", MOTO_SCRIPT], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True, env=self.base_env())
            assert self._moto.stdout is not None
            port = self._moto.stdout.readline().strip()
            if not port.isdigit():
                raise RuntimeError("the moto server did not start")
            self._endpoint = f"http://127.0.0.1:{port}"
            os.environ.update(self.platform_env(), AWS_ENDPOINT_URL=self._endpoint)
            from functions.aws.clients import Clients
            from functions.platform import use
            from functions.settings import Settings
            from functions.stores import create_tables
            from local_dev.queue import ensure_queue

            use(None)  # the process's platform is built again from this environment
            create_tables(Settings())
            # The runs queue, as the stack creates it: webhooks and async runs are queued (nothing
            # consumes it here; the cost section counts what the API does).
            self._queue_url = ensure_queue(Settings(), Clients())
            os.environ["WFP_QUEUE_URL"] = self._queue_url
        return self._endpoint

    def close(self) -> None:
        if self._moto is not None:
            assert self._moto.stdin is not None
            self._moto.stdin.close()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
            self._moto = None
            self._endpoint = None

    # ----- environments ---------------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        """A clean environment: no AWS or platform variables of the caller leak into a measurement."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(AWS_ENV, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
        return env

    def platform_env(self, plugin_set: plugins.PluginSet | None = None) -> dict[str, str]:
        env = {"WFP_STAGE": STAGE, "WFP_PREFIX": PREFIX, "WFP_ADMIN_TOKEN": ADMIN_TOKEN, **AWS_ENV}
        if plugin_set is not None:
            env.update(WFP_PLUGINS_DIR=str(plugin_set.root), WFP_MANIFEST=str(plugin_set.manifest))
        return env

    def child_env(self, plugin_set: plugins.PluginSet | None = None, **extra: str) -> dict[str, str]:
        """A cold-start child: clean environment, moto, the platform's settings, Lambda-like, and byte
        code cached in the work folder (as a layer shipping .pyc files would have it) for every candidate."""
        env = self.base_env()
        env.update(self.platform_env(plugin_set))
        env.update(LAMBDA_ENV)
        env.update(AWS_ENDPOINT_URL=self.endpoint, PYTHONPYCACHEPREFIX=str(self.workdir / "pycache"), **extra)
        env["WFP_QUEUE_URL"] = self._queue_url or ""  # set by ``endpoint``, above
        return env

    # ----- plugins --------------------------------------------------------------------------------------
    def plugins(self, name: str, workflows: int = 0, tools: int = 0) -> plugins.PluginSet:
        if name not in self._plugin_sets:
            self._plugin_sets[name] = plugins.build(self.workdir / f"plugins-{name}", workflows, tools)
        return self._plugin_sets[name]

    def api_handler(self, plugin_set: plugins.PluginSet) -> Any:
        """The platform's api handler, imported in this process over ``plugin_set`` (moto behind it).

        The app is built at import with the settings of the moment, so a second call rebuilds it."""
        import importlib

        self.endpoint  # noqa: B018 - moto up, this process pointed at it
        os.environ.update(self.platform_env(plugin_set))
        from functions.platform import use

        use(None)  # the handler's app serves a platform built from this environment
        fresh = "functions.handlers.api" not in sys.modules
        module = importlib.import_module("functions.handlers.api")
        if not fresh:
            module = importlib.reload(module)
        return module.handler

    def write_json(self, name: str, data: Any) -> Path:
        path = self.workdir / name
        path.write_text(json.dumps(data))
        return path

    def cleanup(self) -> None:
        self.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
