"""The local dev server: uvicorn serving ``functions.http.app`` over local AWS, watching ``plugins/``, with the
local scheduler (cron ticks) and the local queue worker (async runs, stale-run sweep) in threads."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from .aws_server import quiet_aws_libraries
from .environment import env_path, load_env, prepare, refresh
from .scheduler import LocalScheduler
from .watcher import PluginWatcher
from .worker import LocalWorker

log = logging.getLogger("local_dev")


def report_plugins(registry: object) -> None:
    for plugin in registry.errors():  # type: ignore[attr-defined]
        log.error("plugin error: %s %s (%s): %s", plugin.kind, plugin.name, plugin.error_file, plugin.error)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


class _NoQueryStrings(logging.Filter):
    """uvicorn's access log line without the query string: it holds inputs (the GET trigger endpoint,
    webhooks), which may be secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?...", args[3], args[4])
        return True


class PortInUse(SystemExit):
    """The address is taken: said in one line, before anything starts."""


def check_port(host: str, port: int) -> None:
    """Fail at once when ``host:port`` cannot be listened on (another ``wfp dev``, most often), before
    this server joins the other one's local AWS or starts a scheduler. Bound as uvicorn binds
    (``SO_REUSEADDR``: a port only in TIME_WAIT is free), then released for it."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = f"port {port} is in use (another wfp dev?): stop it or pass --port N"
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        print(f"error: {message}", file=sys.stderr)
        raise PortInUse(2) from None


def default_public_url(host: str, port: int) -> str | None:
    """Tell the platform where it is reached, for the links a run carries (a Google tool's sign-in URL in
    its error), as the stack does deployed; unless ``WFP_PUBLIC_URL`` says it, or the server listens on
    every interface (then no single address is right, and the links stay relative)."""
    if os.environ.get("WFP_PUBLIC_URL") or host in ("0.0.0.0", "::", ""):
        return os.environ.get("WFP_PUBLIC_URL") or None
    shown = f"[{host}]" if ":" in host else host
    os.environ["WFP_PUBLIC_URL"] = f"http://{shown}:{port}"
    return os.environ["WFP_PUBLIC_URL"]


def serve(host: str = "127.0.0.1", port: int = 8000, watch: bool = True) -> None:
    check_port(host, port)
    # force: the CLI configured logging for commands (WARNING); the server says where it listens.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)
    # The platform's INFO lines are the ones worth reading; AWS libraries at INFO say how each client
    # found its credentials and region, on every request to the local AWS (its own process, which
    # creates the tables on a first start, quiets them too).
    quiet_aws_libraries()
    # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found: with
    # the default one the process dies on the spot and the `finally` below (stopping the local AWS,
    # which waits for `wfp run` processes still using it) never runs. Exit through Python instead.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # The local AWS starts (replaying its journal, in a process of its own) while this process imports
    # the app; .env is loaded first. The platform is built once the local AWS and its queue exist, with
    # their settings: nothing reads the environment before that.
    load_env()
    default_public_url(host, port)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-aws-start") as pool:
        starting = pool.submit(prepare)
        import uvicorn

        from functions.http.app import create_app
        from functions.http.interfaces import reload_platform

        local = starting.result()
    platform = local.platform
    app = create_app(platform)
    # POST /api/reload re-reads .env too (functions/http/routes/admin.py calls these hooks first)
    app.state.reload_hooks = [refresh]
    report_plugins(platform.registry.check_all())
    watcher = None
    if watch:
        def on_change() -> None:
            log.info("plugins changed: reloading")
            report_plugins(reload_platform(app, platform))

        def on_env_change() -> None:
            if refresh(platform):  # plugin code may read the environment when imported: import it again
                report_plugins(reload_platform(app, platform))

        watcher = PluginWatcher(platform.settings.plugins_dir, on_change, env_file=env_path(),
                                on_env_change=on_env_change)
        watcher.start()
    scheduler = LocalScheduler().start()
    # A moto this process started has a new, empty queue: queued runs of a previous server are re-sent.
    worker = LocalWorker(platform, threads=int(os.environ.get("WFP_LOCAL_WORKER_THREADS") or 4),
                         requeue_at_start=local.aws is not None and local.aws.owner).start()
    # Durable runs left open by the previous server (its runner kept them in memory): new executions
    # carrying their completed steps (local_dev.durable).
    durable = getattr(platform, "durable", None)
    if hasattr(durable, "recover"):
        durable.recover(platform)
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())
    log.info("Workflow Platform on http://%s:%d  (dashboard /, API docs /docs)", host, port)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    except KeyboardInterrupt:  # Ctrl-C, re-raised by uvicorn after its graceful shutdown
        pass
    finally:
        scheduler.stop()
        worker.stop()
        if hasattr(durable, "close"):
            durable.close()
        if watcher:
            watcher.stop()
        local.stop()
