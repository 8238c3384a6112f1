"""What the pynamodb models share: table names that follow the settings, the DynamoDB operations
each table is used with, and the list of models.

pynamodb reads ``Meta.table_name`` on every connection lookup, so a descriptor lets one model class
serve every stage (``wfp-dev-runs``, ``wfp-prod-runs``) and every test without redefining it. The CDK
app derives its tables from ``all_models()``; the local server and the tests create them from it too.

The same descriptor says which DynamoDB operations the code of the model's module issues on that table
(``operations``): the stack grants the functions exactly those IAM actions (``dynamodb:<Operation>``)
and nothing else, and a test runs every public method of every store against moto and checks that the
operations it records are the declared ones. A new kind of call (a DeleteItem, a Scan) therefore needs
a deliberate change here, which the grant follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.settings import get_settings

#: Operations a model may declare: DynamoDB's item and query operations, each authorized by the IAM
#: action of the same name (``dynamodb:GetItem``...). pynamodb's item and query methods never call
#: DescribeTable (it builds requests from the model), so no store needs it; creating tables (the local
#: server, tests) is not a deployed function's business.
OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                        "BatchWriteItem", "ConditionCheckItem"})


class TableName:
    """``table_name = TableName("runs_table", operations=("GetItem", ...))`` in a model's Meta: the name
    is resolved from settings on each use; ``operations`` are the DynamoDB calls the model's store makes."""

    def __init__(self, setting: str, *, operations: Iterable[str]) -> None:
        declared = frozenset(operations)
        if not declared:
            raise ValueError(f"TableName({setting!r}): declare the DynamoDB operations its store issues")
        if declared - OPERATIONS:
            raise ValueError(f"TableName({setting!r}): unknown DynamoDB operation(s) "
                             f"{sorted(declared - OPERATIONS)}; known: {', '.join(sorted(OPERATIONS))}")
        self.setting = setting
        self.operations = declared

    def __get__(self, obj: Any, owner: Any = None) -> str:
        return str(getattr(get_settings(), self.setting))


def all_models() -> list[Any]:
    """Every table of the platform (imported here, lazily, so importing this module is free)."""
    from functions.stores.idempotency import IdempotencyModel
    from functions.stores.oauth import OAuthStateModel, OAuthTokenModel
    from functions.stores.runs import RunModel
    from functions.stores.schedules import ScheduleModel

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
