"""The local dev server: uvicorn serving ``functions.app`` over local AWS, watching ``plugins/``."""

from __future__ import annotations

import logging
import sys

from .environment import prepare
from .scheduler import LocalScheduler
from .watcher import PluginWatcher

log = logging.getLogger("local_dev")


def report_plugins(registry: object) -> None:
    for plugin in registry.errors():  # type: ignore[attr-defined]
        log.error("plugin error: %s %s (%s): %s", plugin.kind, plugin.name, plugin.error_file, plugin.error)


def serve(host: str = "127.0.0.1", port: int = 8000, watch: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    aws = prepare()
    import uvicorn

    from functions.app import app
    from functions.engine import get_engine
    from functions.eventbridge import NoopToggler, set_toggler
    from functions.interfaces import reload_platform

    registry = get_engine().registry.check_all()
    report_plugins(registry)
    watcher = None
    if watch:
        def on_change() -> None:
            log.info("plugins changed: reloading")
            report_plugins(reload_platform(app))

        watcher = PluginWatcher(get_engine().settings.plugins_dir, on_change)
        watcher.start()
    set_toggler(NoopToggler())  # no EventBridge locally: the local scheduler reads the pause state itself
    scheduler = LocalScheduler().start()
    log.info("Workflow Platform on http://%s:%d  (dashboard /, API docs /docs)", host, port)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        scheduler.stop()
        if watcher:
            watcher.stop()
        if aws:
            aws.stop()
