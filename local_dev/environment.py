"""Prepare a process to run the platform locally: ``.env``, local AWS, tables, the runs queue.

Shared by the dev server and the CLI so that ``wfp run`` sees exactly what ``wfp dev`` sees.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from functions.aws.clients import Clients
from functions.aws.eventbridge import NoopToggler
from functions.platform import Platform, use
from functions.settings import REPO_ROOT, Settings

from .aws import LocalAws, use_endpoint
from .queue import LocalQueue, ensure_queue

log = logging.getLogger(__name__)


def state_dir() -> Path:
    return Path(os.environ.get("WFP_LOCAL_STATE") or REPO_ROOT / ".wfp")


def load_env(root: Path = REPO_ROOT) -> Path | None:
    """Load ``.env`` (created from ``.env.example`` on first use) without overriding the environment."""
    env_file = Path(os.environ.get("WFP_ENV_FILE") or root / ".env")
    example = root / ".env.example"
    if not env_file.exists() and example.exists() and "WFP_ENV_FILE" not in os.environ:
        shutil.copyfile(example, env_file)
        log.info("created %s from .env.example: put your tool profiles there", env_file)
    if env_file.exists():
        load_dotenv(env_file, override=False)
        return env_file
    return None


def local_platform() -> Platform:
    """The platform with its local pieces, over the AWS the environment points at (read now: .env is
    loaded and the endpoint set): the runs queue created as the stack does and one that wakes the local
    worker, no EventBridge to toggle (the local scheduler reads the pause state itself)."""
    settings = Settings()
    clients = Clients()
    if not settings.queue_url:  # async runs: the local worker drains this queue
        settings = Settings(queue_url=ensure_queue(settings, clients))
    return Platform(settings, clients=clients, queue=LocalQueue(clients, settings.queue_url),
                    toggler=NoopToggler())


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
    use(platform)
    return Local(aws, platform)
