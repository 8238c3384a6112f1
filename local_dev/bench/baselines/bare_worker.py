"""Floor of the worker's cold start: a bare Lambda handler making a queued run's DynamoDB requests.

The platform's worker (``functions.handlers.worker``) takes each SQS record's run with one conditional
UpdateItem (the claim: ``queued`` → ``running``, the updated record returned) and, the workflow done,
saves it with one conditional PutItem (``functions.stores.runs.DynamoRunStore.claim`` and ``save``).
This handler makes the same two requests on the same table with boto3 alone (client created at import,
as any Lambda would) and nothing else: no Powertools, no pynamodb, no plugin, no tracing. A no-op
workflow does nothing, so neither does this.
"""

import json
import os
import time
from datetime import UTC, datetime

import boto3

TABLE = os.environ.get("BENCH_RUNS_TABLE", "wfp-bench-runs")
LEASE_SECONDS = 120
dynamodb = boto3.client("dynamodb")


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def claim(run_id: str) -> dict:
    """The record, now ``running``; the same conditional UpdateItem as the platform's claim."""
    epoch = int(time.time())
    return dynamodb.update_item(
        TableName=TABLE, Key={"run_id": {"S": run_id}}, ReturnValues="ALL_NEW",
        UpdateExpression="SET #s = :running, started_at = :now, runner = :runner, lease_shard = :shard, "
                         "lease_until = :until ADD attempt :one",
        ConditionExpression="attribute_exists(run_id) AND (#s = :queued OR (#s = :running AND lease_until < :epoch))",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":running": {"S": "running"}, ":queued": {"S": "queued"},
                                   ":now": {"S": now_text()}, ":runner": {"S": "bare"},
                                   ":shard": {"S": "open-0"}, ":until": {"N": str(epoch + LEASE_SECONDS)},
                                   ":epoch": {"N": str(epoch)}, ":one": {"N": "1"}})["Attributes"]


def save(item: dict) -> None:
    """The finished record, unless cancelled meanwhile: the platform's final PutItem."""
    item = {k: v for k, v in item.items() if k not in ("lease_shard", "lease_until")}
    item.update(status={"S": "success"}, finished_at={"S": now_text()}, duration_ms={"N": "0"},
                output={"S": json.dumps({"status": "success"})}, output_truncated={"BOOL": False})
    dynamodb.put_item(TableName=TABLE, Item=item, ConditionExpression="#s <> :cancelled",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":cancelled": {"S": "cancelled"}})


def handler(event: dict, context: object) -> dict:
    for record in event["Records"]:
        save(claim(json.loads(record["body"])["run_id"]))
    return {"batchItemFailures": []}
