"""Floor of the scheduler's cold start: a bare Lambda handler making a tick's DynamoDB requests.

The platform's scheduler (``functions.handlers.scheduler`` → ``functions.core.schedules``) answers a
tick of a scheduled workflow with: one consistent GetItem of the schedule's state (is it paused?), a
PutItem creating the run under a "does not exist" condition (the dedup of duplicate deliveries; the
run id is derived from workflow and scheduled minute), the workflow (a no-op here), a PutItem saving
the finished run unless cancelled, and one conditional UpdateItem of the schedule's state (last run).
This handler makes the same four requests on the same tables with boto3 alone (client created at
import) and nothing else.
"""

import hashlib
import json
import os
import time
from datetime import UTC, datetime, timedelta

import boto3

RUNS = os.environ.get("BENCH_RUNS_TABLE", "wfp-bench-runs")
SCHEDULES = os.environ.get("BENCH_SCHEDULES_TABLE", "wfp-bench-schedules")
dynamodb = boto3.client("dynamodb")


def text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def minute(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def run_id(workflow: str, scheduled: datetime) -> str:
    digest = hashlib.sha256(f"{workflow}\n{scheduled.isoformat()}".encode()).hexdigest()[:12]
    return f"{int(scheduled.timestamp() * 1000):012x}{digest}"


def paused(workflow: str) -> bool:
    item = dynamodb.get_item(TableName=SCHEDULES, Key={"workflow": {"S": workflow}}, ConsistentRead=True).get("Item")
    return bool(item) and item.get("enabled", {}).get("BOOL") is False


def record(workflow: str, scheduled: datetime, rid: str) -> dict:
    now = datetime.now(UTC)
    return {"run_id": {"S": rid}, "workflow": {"S": workflow}, "trigger": {"S": "schedule"},
            "status": {"S": "running"}, "attempt": {"N": "1"}, "created_at": {"S": text(now)},
            "started_at": {"S": text(now)}, "scheduled_time": {"S": scheduled.isoformat()}, "inputs": {"S": "{}"},
            "output_truncated": {"BOOL": False}, "runner": {"S": "bare"},
            "lease_shard": {"S": "open-0"}, "lease_until": {"N": str(int(time.time()) + 120)},
            "history_key": {"S": f"{workflow}#0"}, "day_shard": {"S": f"{scheduled.date().isoformat()}#0"},
            "expires_at": {"N": str(int((now + timedelta(days=90)).timestamp()))}}


def finish(item: dict) -> dict:
    done = {k: v for k, v in item.items() if k not in ("lease_shard", "lease_until")}
    done.update(status={"S": "success"}, finished_at={"S": text(datetime.now(UTC))},
                duration_ms={"N": "0"}, output={"S": json.dumps({"status": "success"})})
    return done


def remember(workflow: str, item: dict, scheduled: datetime) -> None:
    try:
        dynamodb.update_item(
            TableName=SCHEDULES, Key={"workflow": {"S": workflow}}, ReturnValues="ALL_NEW",
            UpdateExpression="SET last_run_id = :id, last_run_status = :status, last_run_at = :at, "
                             "last_scheduled_time = :scheduled",
            ConditionExpression="attribute_not_exists(last_run_id) OR last_run_id <= :id",
            ExpressionAttributeValues={":id": item["run_id"], ":status": item["status"], ":at": item["started_at"],
                                       ":scheduled": {"S": text(scheduled)}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # a newer tick is already recorded


def handler(event: dict, context: object) -> dict:
    workflow, scheduled = event["workflow"], minute(event["time"])
    if paused(workflow):
        return {"workflow": workflow, "status": "nothing to run"}
    rid = run_id(workflow, scheduled)
    item = record(workflow, scheduled, rid)
    try:
        dynamodb.put_item(TableName=RUNS, Item=item, ConditionExpression="attribute_not_exists(run_id)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return {"workflow": workflow, "status": "nothing to run"}
    item = finish(item)
    dynamodb.put_item(TableName=RUNS, Item=item, ConditionExpression="#s <> :cancelled",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":cancelled": {"S": "cancelled"}})
    remember(workflow, item, scheduled)
    return {"workflow": workflow, "run_id": rid, "status": "success"}
