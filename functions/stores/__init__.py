"""DynamoDB, through pynamodb: one module per table (its model and its store), and what they share
(``base``). The stores implement the core's Protocols (``functions.core.runs.RunStore``...); the
composition root (``functions.platform``) builds them. Importing this package imports pynamodb and
botocore: only a request that reads or writes a record does."""

from __future__ import annotations

from typing import Any

from functions.settings import Settings
from functions.stores.base import bind
from functions.stores.idempotency import IdempotencyModel
from functions.stores.oauth import OAuthStateModel, OAuthTokenModel
from functions.stores.runs import RunModel
from functions.stores.schedules import ScheduleModel

MODELS: tuple[Any, ...] = (RunModel, ScheduleModel, OAuthTokenModel, OAuthStateModel, IdempotencyModel)


def all_models() -> list[Any]:
    """Every table of the platform: the CDK app derives its tables from these."""
    return list(MODELS)


def table_names(settings: Settings) -> set[str]:
    """The names of ``settings``' tables (without binding the models to them)."""
    return {str(getattr(settings, model.Meta.__dict__["table_name"].setting)) for model in MODELS}


def create_tables(settings: Settings, wait: bool = False) -> None:
    """Create ``settings``' missing tables (local server, tests). Deployed tables come from the CDK."""
    from pynamodb.exceptions import TableError

    bind(settings)
    for model in MODELS:
        if not model.exists():
            try:
                model.create_table(wait=wait)
            except TableError as exc:  # another process (a second `wfp run`) created it meanwhile
                if getattr(exc, "cause_response_code", None) != "ResourceInUseException":
                    raise
