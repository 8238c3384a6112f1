"""Baseline of the local server's webhook throughput: a bare FastAPI endpoint making a run's writes.

``POST /api/webhooks/{name}`` reads the JSON body and writes the same two items the platform writes
for a sync run, in the platform's runs table (``BENCH_RUNS_TABLE``) on the same moto server: the run
created ``running`` under a "does not exist" condition, then saved ``success``. No plugin, no
validation, no middleware: the floor. Served by uvicorn like the local server. A plain ``def`` route
(FastAPI runs it in its thread pool), as a blocking boto3 call should be.
"""

import json
import os
import secrets
import time
from datetime import datetime, timedelta, timezone

import boto3
from fastapi import FastAPI

TABLE = os.environ.get("BENCH_RUNS_TABLE", "wfp-bench-runs")
dynamodb = boto3.client("dynamodb")
app = FastAPI()


def item(run_id: str, name: str, status: str, inputs: dict) -> dict:
    now = datetime.now(timezone.utc)
    values = {
        "run_id": {"S": run_id}, "workflow": {"S": name}, "trigger": {"S": "webhook"}, "status": {"S": status},
        "attempt": {"N": "1"}, "created_at": {"S": now.isoformat()}, "started_at": {"S": now.isoformat()},
        "inputs": {"S": json.dumps(inputs)}, "output_truncated": {"BOOL": False},
        "expires_at": {"N": str(int((now + timedelta(days=90)).timestamp()))},
    }
    if status != "running":
        values.update(finished_at={"S": now.isoformat()}, duration_ms={"N": "0"}, output={"S": "{}"})
    return values


@app.post("/api/webhooks/{name}")
def webhook(name: str, body: dict) -> dict:
    run_id = f"{int(time.time() * 1000):012x}{secrets.token_hex(6)}"
    dynamodb.put_item(TableName=TABLE, Item=item(run_id, name, "running", body),
                      ConditionExpression="attribute_not_exists(run_id)")
    dynamodb.put_item(TableName=TABLE, Item=item(run_id, name, "success", body))
    return {"run_id": run_id, "status": "success"}


@app.get("/api/health")
async def health() -> dict:
    return {"status": "ok"}


