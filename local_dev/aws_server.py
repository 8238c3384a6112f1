"""``python -m local_dev.aws_server STATE_DIR``: the local AWS of a dev server, in a process of its own.

Started by ``local_dev.aws.LocalAws`` (``separate_process``), which keeps the state folder's lock and
publishes the address. This process replays the journal into moto, serves it on 127.0.0.1 with the
journal recording every write, makes sure the platform's tables exist, then prints one JSON line
(``{"endpoint", "tables"}``) and serves until its stdin closes: the parent closes it to stop it, and
the operating system closes it when the parent dies, so no local AWS outlives its dev server.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .aws import LocalAws, use_endpoint

#: Libraries whose INFO lines say how each client found its credentials, region and endpoint (and pynamodb
#: which settings file it did not find): noise on every start. Their warnings and errors still show.
NOISY_LOGGERS = ("botocore", "boto3", "pynamodb", "aws_xray_sdk", "urllib3", "moto")


def quiet_aws_libraries() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def ensure_tables() -> set[str]:
    """The platform's tables and run-data bucket, created if missing (checked in this process's moto: no
    request). The bucket is checked apart: a local state kept from an older release has the tables only."""
    from functions.settings import Settings
    from functions.stores import create_bucket, create_tables, table_names

    from .compaction import bucket_names
    from .compaction import table_names as existing_tables

    settings = Settings()
    needed = table_names(settings)
    known = existing_tables()
    if known is None or not needed <= known:
        create_tables(settings)
        known = existing_tables() or needed
    else:
        if settings.run_data_bucket not in bucket_names():
            create_bucket(settings.run_data_bucket)
        update_indexes(settings)
    return known


def update_indexes(settings: Any) -> None:
    """Bring the indexes of a state kept from an older release up to the models' (an index added, a
    projection grown), checked in this process's moto first: a start with current indexes makes no request."""
    from functions.stores import MODELS, add_missing_indexes
    from functions.stores.base import bind

    bind(settings)

    from .compaction import index_projections

    for model in MODELS:
        wanted = {i["index_name"]: i["projection"] for i in model._get_schema().get("global_secondary_indexes", [])}
        if wanted and index_projections(model.Meta.table_name) != _normalized(wanted):
            add_missing_indexes(model)


def _normalized(projections: dict[str, dict]) -> dict[str, tuple[str, frozenset[str]]]:
    return {name: (p.get("ProjectionType", "ALL"), frozenset(p.get("NonKeyAttributes") or ()))
            for name, p in projections.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_dev.aws_server")
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--compact-after", type=int, default=LocalAws.compact_after)
    args = parser.parse_args(argv)
    # Ctrl-C reaches every process of the terminal's group: the parent decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    quiet_aws_libraries()  # creating the tables on a first start builds a client per model
    aws = LocalAws(args.state_dir)
    aws.compact_after = args.compact_after
    endpoint = aws.serve_here(args.port)
    use_endpoint(endpoint)
    tables = ensure_tables()
    print(json.dumps({"endpoint": endpoint, "tables": sorted(tables)}), flush=True)
    sys.stdin.read()  # until the parent closes it, or dies
    aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
