"""What the pynamodb models share: table names from the platform's settings, the DynamoDB operations
each table is used with, and the conditional write every store makes.

pynamodb models are process-wide classes and read ``Meta.table_name`` when they open a connection, so
one ``TableName`` descriptor serves every stage (``wfp-dev-runs``, ``wfp-prod-runs``) and every test:
the composition root binds the models to its settings (``bind``) when it builds its stores, and the
descriptor answers from those. The CDK app derives its tables from the models and reads only
``TableName.setting`` (it names tables itself).

``operations`` says which DynamoDB operations the model's store issues on that table: the stack grants
the functions exactly those IAM actions (``dynamodb:<Operation>``) and nothing else, and a test runs
every public method of every store against moto and checks the operations it records are these. A new
kind of call (a DeleteItem, a Scan) therefore needs a deliberate change here, which the grant follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from functions.settings import Settings

#: Operations a model may declare: DynamoDB's item and query operations, each authorized by the IAM
#: action of the same name (``dynamodb:GetItem``...). pynamodb's item and query methods never call
#: DescribeTable (it builds requests from the model), so no store needs it; creating tables (the local
#: server, tests) is not a deployed function's business.
OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                        "BatchWriteItem", "ConditionCheckItem"})
CONDITION_FAILED = "ConditionalCheckFailedException"

_bound: Settings | None = None
_bind_lock = threading.Lock()
#: Every model class, registered by ``TableName`` as the model modules are imported.
_models: list[Any] = []


def bound_settings() -> Settings:
    """The settings the models are bound to (the process's platform binds them when it builds a store)."""
    if _bound is None:
        raise RuntimeError("the stores are not bound to any settings: build them through functions.platform")
    return _bound


def bind(settings: Settings) -> None:
    """Point every model at ``settings``' tables; a change drops pynamodb's cached connections, which
    keep the table name and endpoint they were opened with."""
    global _bound
    from functions.aws import loader
    from functions.aws.clients import POOL_CONNECTIONS
    from functions.aws.metering import install

    install()  # before pynamodb makes its first botocore session: each run's requests are counted
    loader.share()  # one parse of DynamoDB's service model for every model's session (functions.aws.loader)
    with _bind_lock:
        if _bound is not settings:
            _bound = settings
            for model in _models:  # as many connections as the threads that share a model's
                model.Meta.max_pool_connections = POOL_CONNECTIONS
            reset_connections()


def reset_connections() -> None:
    for model in _models:
        model._connection = None


class TableName:
    """``table_name = TableName("runs_table", operations=("GetItem", ...))`` in a model's Meta: the name is
    the bound settings' ``runs_table``; ``operations`` are the DynamoDB calls the model's store makes."""

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
        return str(getattr(bound_settings(), self.setting))


def register(model: Any) -> Any:
    """Class decorator of every model: listed for ``functions.stores.all_models`` and the binding."""
    if not isinstance(model.Meta.__dict__.get("table_name"), TableName):
        raise TypeError(f"{model.__name__}.Meta.table_name must be TableName('<setting>', operations=...)")
    if model not in _models:
        _models.append(model)
    return model


def conditionally(write: Callable[[], Any]) -> bool:
    """Run one conditional write (``save(condition=...)``, ``update(condition=...)``): True when it was
    applied, False when its condition did not hold; any other failure raises."""
    try:
        write()
    except (PutError, UpdateError) as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True
