"""DynamoDB, through pynamodb: one module per table (its model and its store), and what they share
(``base``). The stores implement the core's Protocols (``functions.core.runs.RunStore``...); the
composition root (``functions.platform``) builds them. Importing this package imports pynamodb and
botocore: only a request that reads or writes a record does."""

from __future__ import annotations

from typing import Any

from functions.settings import Settings
from functions.stores.base import bind
from functions.stores.idempotency import IdempotencyModel
from functions.stores.metrics import MetricsModel
from functions.stores.notices import NoticeModel
from functions.stores.oauth import OAuthStateModel, OAuthTokenModel
from functions.stores.runs import RunModel
from functions.stores.schedules import ScheduleModel

MODELS: tuple[Any, ...] = (RunModel, ScheduleModel, OAuthTokenModel, OAuthStateModel, IdempotencyModel, MetricsModel,
                           NoticeModel)


def all_models() -> list[Any]:
    """Every table of the platform: the CDK app derives its tables from these."""
    return list(MODELS)


def retired_indexes(model: Any, settings: Settings) -> frozenset[str]:
    """The model's indexes this deployment no longer has (the CDK leaves them out, nothing reads them): what
    the model's own ``retired_indexes(settings)`` names, if it has one (``RunModel``: ``by_workflow``)."""
    hook = getattr(model, "retired_indexes", None)
    return hook(settings) if hook is not None else frozenset()


def table_names(settings: Settings) -> set[str]:
    """The names of ``settings``' tables (without binding the models to them)."""
    return {str(getattr(settings, model.Meta.__dict__["table_name"].setting)) for model in MODELS}


def create_tables(settings: Settings, wait: bool = False) -> None:
    """Create ``settings``' missing tables and run-data bucket (local server, tests). Deployed, they come
    from the CDK."""
    from pynamodb.exceptions import TableError

    bind(settings)
    create_bucket(settings.run_data_bucket)
    for model in MODELS:
        if not model.exists():
            try:
                model.create_table(wait=wait)
            except TableError as exc:  # another process (a second `wfp run`) created it meanwhile
                if getattr(exc, "cause_response_code", None) != "ResourceInUseException":
                    raise
        else:
            add_missing_indexes(model)


def add_missing_indexes(model: Any) -> list[str]:
    """Create the model's global secondary indexes an existing table lacks (local state kept from an older
    release: its runs table predates an index), or has with another projection (re-created), one per
    UpdateTable as DynamoDB allows; the names added.
    Deployed, the CDK does this (one new index per table and release: ``tests/functions/stores``)."""
    connection = model._get_connection().connection
    table = model.Meta.table_name
    present = {i["IndexName"]: i for i in connection.describe_table(table).get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()
    added = []
    for index in schema.get("global_secondary_indexes", []):
        if index["index_name"] in present:
            if _projected(present[index["index_name"]]["Projection"]) == _projected(index["projection"]):
                continue
            # Locally only: an index of this release whose projection grew since the state was made
            # (by_day gained usage); deployed, a projection never changes (a new index is needed).
            connection.dispatch("UpdateTable", {"TableName": table, "GlobalSecondaryIndexUpdates": [
                {"Delete": {"IndexName": index["index_name"]}}]})
        connection.dispatch("UpdateTable", {
            "TableName": table, "AttributeDefinitions": index["attribute_definitions"],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": index["index_name"], "KeySchema": index["key_schema"],
                "Projection": index["projection"]}}]})
        added.append(index["index_name"])
    return added


def _projected(projection: dict[str, Any]) -> tuple[str, frozenset[str]]:
    return projection.get("ProjectionType", "ALL"), frozenset(projection.get("NonKeyAttributes") or ())


def create_bucket(name: str) -> None:
    """Create the S3 bucket ``name`` unless it exists (moto's S3: the local server, tests)."""
    import boto3

    client = boto3.client("s3")
    region = client.meta.region_name
    try:
        client.create_bucket(Bucket=name, **({} if region == "us-east-1" else
                                              {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    except (client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists):
        pass
