"""Journal compaction: the local AWS state, written as the few requests that rebuild it.

After a replay, the journal holds every write ever made. This asks moto for its current state
(DescribeTable, ListSecrets...) and yields one CreateTable per table, one PutItem per item, one
CreateSecret per secret, and one CreateBucket per bucket and PutObject per object, in the journal's own
format.

The items are read from moto's DynamoDB backend objects (``Item.to_json``, what a Scan answers)
rather than by Scans through moto's HTTP layer, whose response serializer took over a minute for
10,000 run records; Scan remains the fallback should the backend not be reachable that way.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

from werkzeug.test import EnvironBuilder

TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "StreamSpecification", "SSESpecification")
INDEX_KEYS = ("IndexName", "KeySchema", "Projection")


#: The access key of the compacted journal's requests (moto maps it to its default account).
ACCESS_KEY = "testing"


def _headers(service: str, target: str, region: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250101/{region}/{service}/aws4_request, "
                              "SignedHeaders=host, Signature=0",
        "HTTP_X_AMZ_TARGET": target,
        "CONTENT_TYPE": "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1",
    }


def _entry(service: str, target: str, body: dict[str, Any], region: str) -> dict[str, Any]:
    return {"path": "/", "headers": _headers(service, target, region),
            "body": base64.b64encode(json.dumps(body).encode()).decode()}


def _call(app: Any, service: str, target: str, body: dict[str, Any], region: str) -> dict[str, Any]:
    headers = _headers(service, target, region)
    environ = EnvironBuilder(path="/", method="POST", data=json.dumps(body).encode(),
                             content_type=headers.pop("CONTENT_TYPE")).get_environ()
    environ.update(headers)
    out = b"".join(app(environ, lambda *a, **k: None))
    return json.loads(out or b"{}")


def _create_table_request(desc: dict[str, Any]) -> dict[str, Any]:
    request = {k: desc[k] for k in TABLE_KEYS if k in desc}
    request["TableName"] = desc["TableName"]
    billing = desc.get("BillingModeSummary", {}).get("BillingMode", "PAY_PER_REQUEST")
    request["BillingMode"] = billing
    if billing == "PROVISIONED":
        throughput = desc.get("ProvisionedThroughput", {})
        request["ProvisionedThroughput"] = {k: throughput.get(k, 1) for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if desc.get(kind):
            request[kind] = [{k: index[k] for k in INDEX_KEYS if k in index} for index in desc[kind]]
    return request


def _table_names(app: Any, region: str) -> Iterator[str]:
    """Every table, page after page (ListTables answers 100 at most)."""
    request: dict[str, Any] = {}
    while True:
        page = _call(app, "dynamodb", "DynamoDB_20120810.ListTables", request, region)
        yield from page.get("TableNames", [])
        if not page.get("LastEvaluatedTableName"):
            return
        request = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}


def _secrets(app: Any, region: str) -> Iterator[dict[str, Any]]:
    """Every secret, page after page (ListSecrets answers 100 at most)."""
    request: dict[str, Any] = {}
    while True:
        page = _call(app, "secretsmanager", "secretsmanager.ListSecrets", request, region)
        yield from page.get("SecretList", [])
        if not page.get("NextToken"):
            return
        request = {"NextToken": page["NextToken"]}


def _items(app: Any, name: str, region: str) -> Iterator[dict[str, Any]]:
    """Every item of a table, as DynamoDB JSON."""
    try:
        items = [item.to_json()["Attributes"] for item in _backends(region)[0].get_table(name).all_items()]
    except Exception:  # noqa: BLE001 - moto's internals moved: page through Scans instead
        items = None
    if items is not None:
        yield from items
        return
    start: dict[str, Any] | None = None
    while True:
        page = _call(app, "dynamodb", "DynamoDB_20120810.Scan",
                     {"TableName": name, **({"ExclusiveStartKey": start} if start else {})}, region)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _backends(region: str | None) -> tuple[Any, Any]:
    """This process's moto DynamoDB and Secrets Manager backends of the compacted journal's account."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import get_account_id_from
    from moto.secretsmanager.models import secretsmanager_backends

    region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(ACCESS_KEY)
    return dynamodb_backends[account][region], secretsmanager_backends[account][region]


def table_names(region: str | None = None) -> set[str] | None:
    """The tables of this process's moto, or None if it cannot tell."""
    try:
        return set(_backends(region)[0].tables)
    except Exception:  # noqa: BLE001 - moto's internals moved: unknown
        return None


def state_size(region: str | None = None) -> int | None:
    """How many lines a compacted journal would have (tables, items, secrets, buckets, objects), or None
    if unknown."""
    try:
        dynamodb, secretsmanager = _backends(region)
        secrets = len(list(secretsmanager.secrets.values()))
        objects = sum(1 + len(list(bucket.keys.keys())) for bucket in _s3_backend().buckets.values())
        return sum(2 + len(table.all_items()) for table in dynamodb.tables.values()) + secrets + objects
    except Exception:  # noqa: BLE001 - moto's internals moved: unknown
        return None


def index_projections(table: str, region: str | None = None) -> dict[str, tuple[str, frozenset[str]]] | None:
    """The global indexes of a table of this process's moto and their projections (None if unknown)."""
    try:
        found = _backends(region)[0].get_table(table).global_indexes
        return {i.name: ((i.projection or {}).get("ProjectionType", "ALL"),
                         frozenset((i.projection or {}).get("NonKeyAttributes") or ())) for i in found}
    except Exception:  # noqa: BLE001 - moto's internals moved: unknown
        return None


def bucket_names() -> set[str]:
    """The buckets of this process's moto (empty if it cannot tell: the caller then creates its own)."""
    try:
        return set(_s3_backend().buckets)
    except Exception:  # noqa: BLE001 - moto's internals moved: unknown
        return set()


def _s3_backend() -> Any:
    from moto.iam.models import get_account_id_from
    from moto.s3.models import s3_backends

    account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(ACCESS_KEY)
    return s3_backends[account]["global"]


def _s3_entry(path: str, body: bytes, region: str, content_type: str | None = None) -> dict[str, Any]:
    headers = {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250101/{region}/s3/aws4_request, "
                                     "SignedHeaders=host, Signature=0",
               "HTTP_HOST": "127.0.0.1"}
    if content_type:
        headers["CONTENT_TYPE"] = content_type
    return {"method": "PUT", "path": path, "query": "", "headers": headers, "body": base64.b64encode(body).decode()}


def s3_entries() -> Iterator[dict[str, Any]]:
    """One CreateBucket per bucket and one PutObject per object (its latest version), from moto's backend."""
    from urllib.parse import quote

    for name, bucket in _s3_backend().buckets.items():
        region = bucket.region_name
        config = b"" if region == "us-east-1" else (
            "<CreateBucketConfiguration><LocationConstraint>" + region
            + "</LocationConstraint></CreateBucketConfiguration>").encode()
        yield _s3_entry(f"/{name}", config, region)
        for key in list(bucket.keys.values()):
            yield _s3_entry(f"/{name}/{quote(key.name)}", key.value, region, key.metadata.get("Content-Type"))


def snapshot_entries(app: Any, region: str | None = None) -> Iterator[dict[str, Any]]:
    region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    ddb = "DynamoDB_20120810."
    for name in _table_names(app, region):
        desc = _call(app, "dynamodb", ddb + "DescribeTable", {"TableName": name}, region)["Table"]
        yield _entry("dynamodb", ddb + "CreateTable", _create_table_request(desc), region)
        ttl = _call(app, "dynamodb", ddb + "DescribeTimeToLive", {"TableName": name}, region)
        ttl_desc = ttl.get("TimeToLiveDescription", {})
        if ttl_desc.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            yield _entry("dynamodb", ddb + "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": {
                "Enabled": True, "AttributeName": ttl_desc["AttributeName"]}}, region)
        for item in _items(app, name, region):
            yield _entry("dynamodb", ddb + "PutItem", {"TableName": name, "Item": item}, region)
    sm = "secretsmanager."
    for secret in _secrets(app, region):
        value = _call(app, "secretsmanager", sm + "GetSecretValue", {"SecretId": secret["ARN"]}, region)
        body = {"Name": secret["Name"], **({"Description": secret["Description"]} if secret.get("Description") else {})}
        if "SecretString" in value:
            body["SecretString"] = value["SecretString"]
        elif "SecretBinary" in value:
            body["SecretBinary"] = value["SecretBinary"]
        yield _entry("secretsmanager", sm + "CreateSecret", body, region)
    yield from s3_entries()
