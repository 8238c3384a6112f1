"""Prepare a process to run the platform locally: ``.env``, local AWS, tables, the runs queue.

Shared by the dev server and the CLI so that ``wfp run`` sees exactly what ``wfp dev`` sees.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from dotenv.variables import parse_variables

from functions.aws.clients import Clients
from functions.aws.eventbridge import NoopToggler
from functions.platform import Platform, use
from functions.settings import REPO_ROOT, Settings

from .aws import LocalAws, use_endpoint
from .queue import LocalQueue, ensure_queue

log = logging.getLogger(__name__)


def state_dir() -> Path:
    return Path(os.environ.get("WFP_LOCAL_STATE") or REPO_ROOT / ".wfp")


#: The variables the last read of ``.env`` set, with the value it gave them: a later read sets what changed
#: and removes what ``.env`` no longer has, and never touches the others (the real process environment,
#: which wins over ``.env``).
_from_env_file: dict[str, str] = {}
_env_lock = threading.Lock()


def env_path(root: Path = REPO_ROOT) -> Path:
    """The dotenv file the local server and the CLI read: ``$WFP_ENV_FILE``, else ``<root>/.env``."""
    return Path(os.environ.get("WFP_ENV_FILE") or root / ".env")


def _read(env_file: Path) -> dict[str, str]:
    """The file's variables, ``${VAR}`` expanded as ``load_dotenv(override=False)`` does (the real
    environment first, then the file's earlier lines), never from what a previous read of it set."""
    if not env_file.exists():
        return {}
    real = {k: v for k, v in os.environ.items() if _from_env_file.get(k) != v}
    values: dict[str, str] = {}
    for key, raw in dotenv_values(env_file, interpolate=False).items():
        if raw is not None:
            values[key] = "".join(atom.resolve({**values, **real}) for atom in parse_variables(raw))
    return values


def _apply(values: dict[str, str]) -> set[str]:
    """Make the environment hold ``values`` where ``.env`` decides; the variables changed."""
    changed: set[str] = set()
    with _env_lock:
        for key in list(_from_env_file):
            # removed from .env, and still ours (nobody set it since): unset
            if key not in values and os.environ.get(key) == _from_env_file.pop(key):
                del os.environ[key]
                changed.add(key)
        for key, value in values.items():
            current = os.environ.get(key)
            if current is not None and _from_env_file.get(key) != current:
                continue  # from the real environment (or set by the process since): it wins over .env
            if current != value:
                os.environ[key] = value
                changed.add(key)
            _from_env_file[key] = value
    return changed


def load_env(root: Path = REPO_ROOT) -> Path | None:
    """Load ``.env`` (created from ``.env.example`` on first use) without overriding the environment."""
    env_file = env_path(root)
    example = root / ".env.example"
    if not env_file.exists() and example.exists() and "WFP_ENV_FILE" not in os.environ:
        shutil.copyfile(example, env_file)
        log.info("created %s from .env.example: put your tool profiles there", env_file)
    if env_file.exists():
        _apply(_read(env_file))
        return env_file
    return None


def reload_env(root: Path = REPO_ROOT) -> set[str]:
    """Read ``.env`` again: set what it adds or changes, remove what a previous read set and it no longer
    has; the real process environment is never touched. Returns the variables that changed."""
    return _apply(_read(env_path(root)))


def refresh(platform: Platform, root: Path = REPO_ROOT) -> set[str]:
    """``.env`` changed (the watcher) or a reload was asked (``POST /api/reload``): read it again and
    drop what was read from the old one. Profiles and webhook secrets are read from the environment on
    each use; the secret reader's cache (profile secrets and their absence, the profile index) is
    dropped so that a profile is looked up again. Settings (``WFP_*`` fields) are read once, at start."""
    changed = reload_env(root)
    if changed:
        log.info(".env reloaded: %s changed", ", ".join(sorted(changed)))
        fields = {f"WFP_{name.upper()}" for name in Settings.model_fields}
        restart = sorted(fields & changed)
        if restart:
            log.warning("%s changed in .env: restart the server for it to take effect", ", ".join(restart))
    secrets = platform.__dict__.get("secrets")  # only if built: a reload must not build a client
    if secrets is not None:
        secrets.forget()
    return changed


#: Write shards locally, unless the environment sets them (``WFP_OPEN_RUN_SHARDS``...): moto has no
#: partitions to spread and reads its whole table for every Query, so each shard would cost a local sweep
#: or history page a table read (65 and 9 of them with the deployed defaults). SCALING.md.
LOCAL_SHARDS = {"open_run_shards": 1, "history_shards": 1}


def local_settings() -> Settings:
    """The settings of the local platform: the environment's, with ``LOCAL_SHARDS`` where it sets none."""
    chosen = {name: value for name, value in LOCAL_SHARDS.items() if f"WFP_{name.upper()}" not in os.environ}
    return Settings(**chosen)


def local_platform() -> Platform:
    """The platform with its local pieces, over the AWS the environment points at (read now: .env is
    loaded and the endpoint set): the runs queue created as the stack does and one that wakes the local
    worker, no EventBridge to toggle (the local scheduler reads the pause state itself)."""
    settings = local_settings()
    clients = Clients()
    if not settings.queue_url:  # async runs: the local worker drains this queue
        settings = settings.model_copy(update={"queue_url": ensure_queue(settings, clients)})
    from .durable import LocalDurableBackend

    # Durable workflows run on the SDK's in-process runner (local_dev.durable), built on first use.
    return Platform(settings, clients=clients, queue=LocalQueue(clients, settings.queue_url),
                    toggler=NoopToggler(), durable=LocalDurableBackend())


@dataclass
class Local:
    """What ``prepare`` set up: the local AWS it started (None when ``AWS_ENDPOINT_URL`` names another) and
    the platform over it, installed as the process's (``functions.platform.use``)."""

    aws: LocalAws | None
    platform: Platform

    def stop(self) -> None:
        if self.aws:
            self.aws.stop()


def prepare(port: int = 0) -> Local:
    """Load .env, point AWS at the user's endpoint (LocalStack...) or at a local moto server (in a process
    of its own, ``LocalAws.separate_process``), then build the local platform: tables created from the
    models, the runs queue created as the stack does, no EventBridge to toggle (the local scheduler reads
    the pause state itself), a queue that wakes the local worker."""
    load_env()
    aws: LocalAws | None = None
    if os.environ.get("AWS_ENDPOINT_URL"):
        log.info("using AWS_ENDPOINT_URL=%s (no moto)", os.environ["AWS_ENDPOINT_URL"])
        use_endpoint(os.environ["AWS_ENDPOINT_URL"])
    else:
        aws = LocalAws(state_dir())
        aws.separate_process = True
        use_endpoint(aws.start(port))
    platform = local_platform()
    from functions.stores import create_tables, table_names

    known = aws.tables() if aws else None
    if known is None or not table_names(platform.settings) <= known:
        # Checking through the API builds a DynamoDB client per model (~0.5 s of a start): done only
        # when this process cannot see its own moto's tables, or some are missing.
        create_tables(platform.settings)
    if aws and platform.settings.notify_email_from:
        # Email notices (on_error): SES sends only as a verified identity; the local one is moto's.
        try:
            platform.clients.get("sesv2").create_email_identity(EmailIdentity=platform.settings.notify_email_from)
        except Exception as exc:  # noqa: BLE001 - already there (a shared local AWS): fine
            if "AlreadyExists" not in type(exc).__name__:
                log.warning("could not create the local SES identity %s: %s", platform.settings.notify_email_from, exc)
    use(platform)
    return Local(aws, platform)
