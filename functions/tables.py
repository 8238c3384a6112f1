"""What the pynamodb models share: table names that follow the settings, and the list of models.

pynamodb reads ``Meta.table_name`` on every connection lookup, so a descriptor lets one model class
serve every stage (``wfp-dev-runs``, ``wfp-prod-runs``) and every test without redefining it. The CDK
app derives its tables from ``all_models()``; the local server and the tests create them from it too.
"""

from __future__ import annotations

from typing import Any

from .settings import get_settings


class TableName:
    """``table_name = TableName("runs_table")`` in a model's Meta: resolved from settings on each use."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def __get__(self, obj: Any, owner: Any = None) -> str:
        return str(getattr(get_settings(), self.setting))


def all_models() -> list[Any]:
    """Every table of the platform (imported here, lazily, so importing this module is free)."""
    from .idempotency_table import IdempotencyModel
    from .oauth_store import OAuthStateModel, OAuthTokenModel
    from .run_table import RunModel
    from .schedule_store import ScheduleModel

    models: list[Any] = [RunModel, ScheduleModel, OAuthTokenModel, OAuthStateModel, IdempotencyModel]
    return models


def create_tables(wait: bool = False) -> None:
    """Create any missing table (local server, tests). Deployed tables come from the CDK."""
    from pynamodb.exceptions import TableError

    for model in all_models():
        if not model.exists():
            try:
                model.create_table(wait=wait)
            except TableError as exc:  # another process (a second `wfp run`) created it meanwhile
                if getattr(exc, "cause_response_code", None) != "ResourceInUseException":
                    raise


def reset_connections() -> None:
    """Drop cached pynamodb connections (their clients keep the endpoint they were created with)."""
    for model in all_models():
        model._connection = None
