"""DynamoDB tables derived from the pynamodb models (``functions.stores.base.all_models()``).

The models are the single source of truth: keys, attribute types, global and local secondary
indexes with their projections, and the TTL attribute all come from ``Model._get_schema()`` (what
pynamodb itself sends to CreateTable) and ``Model._ttl_attribute()``. A model names its table with
``TableName("<setting>")``; the stack lets CloudFormation name the table and hands the name to the
functions as ``WFP_<SETTING>`` (e.g. ``runs_table`` → ``WFP_RUNS_TABLE``), the variable
``functions.settings`` reads.

Every table: on-demand, point-in-time recovery, encrypted with KMS (the AWS-managed key, which costs
nothing at rest; a customer-managed key would cost $1/month for no gain here).

Access follows the model too: ``grant_operations`` gives a function the IAM actions of the operations
the model declares (``TableName(..., operations=...)``), on the table and, only when it has some, on its
indexes. No ``grant_read_write_data``: that would add Scan, DeleteItem, BatchWriteItem, DescribeTable
and the stream reads, none of which the platform issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.stores import retired_indexes
from functions.stores.base import TableName

from .nag import checkov_skip

ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
                   "B": dynamodb.AttributeType.BINARY}
PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
               "INCLUDE": dynamodb.ProjectionType.INCLUDE}


@dataclass(frozen=True)
class TableSpec:
    """What a model says about its table, in DynamoDB's terms."""

    setting: str
    partition_key: tuple[str, str]
    sort_key: tuple[str, str] | None
    global_indexes: list[dict[str, Any]]
    local_indexes: list[dict[str, Any]]
    ttl_attribute: str | None
    #: The DynamoDB operations the model's store issues (``TableName(..., operations=...)``).
    operations: frozenset[str] = frozenset()

    @property
    def actions(self) -> list[str]:
        """The IAM actions of ``operations`` (``dynamodb:GetItem``...), sorted."""
        return [f"dynamodb:{operation}" for operation in sorted(self.operations)]

    @property
    def has_indexes(self) -> bool:
        return bool(self.global_indexes or self.local_indexes)

    @property
    def env_var(self) -> str:
        return f"WFP_{self.setting.upper()}"

    @property
    def construct_id(self) -> str:
        return "".join(part.capitalize() for part in self.setting.split("_"))


def _keys(key_schema: list[dict[str, str]], types: dict[str, str]) -> tuple[tuple[str, str], tuple[str, str] | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in key_schema}
    hash_key = by_type["HASH"]
    range_key = by_type.get("RANGE")
    return (hash_key, types[hash_key]), ((range_key, types[range_key]) if range_key else None)


def spec_of(model: Any, settings: Any = None) -> TableSpec:
    """Read a pynamodb model's table definition; with ``settings``, without the indexes that deployment has
    retired (``functions.stores.retired_indexes``: the model still declares them for the deployments that
    keep them, one index change per table update)."""
    name = model.Meta.__dict__.get("table_name")
    if not isinstance(name, TableName):
        raise TypeError(f"{model.__name__}.Meta.table_name must be TableName('<setting>') so that each stage "
                        f"gets its own table, not {name!r}")
    schema = model._get_schema()
    types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    partition, sort = _keys(schema["key_schema"], types)

    def indexes(kind: str) -> list[dict[str, Any]]:
        result = []
        for index in schema.get(kind) or []:
            index_types = {**types, **{a["AttributeName"]: a["AttributeType"]
                                       for a in index.get("attribute_definitions", [])}}
            p, s = _keys(index["key_schema"], index_types)
            projection = index.get("projection") or {"ProjectionType": "ALL"}
            result.append({"name": index["index_name"], "partition_key": p, "sort_key": s,
                           "projection": projection["ProjectionType"],
                           "non_key_attributes": list(projection.get("NonKeyAttributes") or [])})
        return result

    ttl = model._ttl_attribute()
    retired = retired_indexes(model, settings) if settings is not None else frozenset()
    return TableSpec(setting=name.setting, partition_key=partition, sort_key=sort,
                     global_indexes=[i for i in indexes("global_secondary_indexes") if i["name"] not in retired],
                     local_indexes=indexes("local_secondary_indexes"),
                     ttl_attribute=ttl.attr_name if ttl is not None else None, operations=name.operations)


def _attribute(key: tuple[str, str] | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=key[0], type=ATTRIBUTE_TYPES[key[1]]) if key else None


def model_table(scope: Construct, model: Any, removal_policy: RemovalPolicy,
                settings: Any = None) -> tuple[dynamodb.Table, TableSpec]:
    spec = spec_of(model, settings)
    table = dynamodb.Table(
        scope, spec.construct_id,
        partition_key=_attribute(spec.partition_key),  # type: ignore[arg-type]
        sort_key=_attribute(spec.sort_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=spec.ttl_attribute,
        removal_policy=removal_policy,
    )
    for index in spec.global_indexes:
        table.add_global_secondary_index(
            index_name=index["name"], partition_key=_attribute(index["partition_key"]),  # type: ignore[arg-type]
            sort_key=_attribute(index["sort_key"]), projection_type=PROJECTIONS[index["projection"]],
            non_key_attributes=index["non_key_attributes"] or None)
    for index in spec.local_indexes:
        table.add_local_secondary_index(
            index_name=index["name"], sort_key=_attribute(index["sort_key"]),  # type: ignore[arg-type]
            projection_type=PROJECTIONS[index["projection"]], non_key_attributes=index["non_key_attributes"] or None)
    checkov_skip(table, "CKV_AWS_119", "Encrypted at rest with the AWS-managed KMS key (aws/dynamodb) on purpose: "
                 "a customer-managed key costs $1/month per key plus its KMS requests, and "
                 "a key policy to maintain; access is controlled by IAM, each function role being granted only "
                 "the operations its stores declare, on its tables.")
    return table, spec


def grant_operations(table: dynamodb.Table, spec: TableSpec, grantee: iam.IGrantable) -> iam.Grant:
    """Exactly the model's declared operations, on the table (and on ``<table>/index/*`` only when the
    table has secondary indexes: ``Table.grant`` adds the index ARNs then, and only then)."""
    return table.grant(grantee, *spec.actions)
