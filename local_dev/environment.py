"""Prepare a process to run the platform locally: ``.env``, local AWS, tables, the runs queue.

Shared by the dev server and the CLI so that ``wfp run`` sees exactly what ``wfp dev`` sees.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from dotenv import load_dotenv

from functions.settings import REPO_ROOT, reset_settings

from .aws import LocalAws, use_endpoint

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


def prepare(port: int = 0, reset: bool = True) -> LocalAws | None:
    """Load .env, then point AWS at the user's endpoint (LocalStack...) or at a local moto server
    (in a process of its own, ``LocalAws.separate_process``), with the platform's tables.

    ``reset=False`` keeps the settings and engine of this process as they are (the dev server starts
    the local AWS in a thread while it imports the app, which has read them already)."""
    load_env()
    aws: LocalAws | None = None
    if os.environ.get("AWS_ENDPOINT_URL"):
        log.info("using AWS_ENDPOINT_URL=%s (no moto)", os.environ["AWS_ENDPOINT_URL"])
        use_endpoint(os.environ["AWS_ENDPOINT_URL"])
    else:
        aws = LocalAws(state_dir())
        aws.separate_process = True
        use_endpoint(aws.start(port))
    if reset:
        from functions.core.engine import reset_engine

        reset_settings()
        reset_engine()
    from functions.stores.base import all_models, create_tables

    known = aws.tables() if aws else None
    needed = {model.Meta.table_name for model in all_models()}
    if known is None or not needed <= known:
        # Checking through the API builds a DynamoDB client per model (~0.5 s of a start): done only
        # when this process cannot see its own moto's tables, or some are missing.
        create_tables()
    if not os.environ.get("WFP_QUEUE_URL"):  # async runs: the local worker drains this queue
        from functions.aws import queue

        from .worker import ensure_queue

        os.environ["WFP_QUEUE_URL"] = ensure_queue()
        reset_settings()
        queue.reset_client()
    return aws
