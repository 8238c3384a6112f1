"""Baseline of the local server's webhook throughput: bare FastAPI doing a webhook run's AWS requests.

The platform answers a webhook 202 once its run is recorded ``queued`` and queued on SQS; a worker
then claims it, runs it and records the result (``functions.core.queued.QueuedRuns.deliver``). This
baseline makes the same requests with nothing else around them (no plugin, no validation, no
middleware, no Powertools): the floor for that work on the same moto server.

- ``POST /api/webhooks/{name}``: PutItem of the ``queued`` run under a "does not exist" condition,
  SendMessage to ``BENCH_QUEUE_URL``, 202. A plain ``def`` route (FastAPI runs it in its thread pool),
  as a blocking boto3 call should be.
- ``BENCH_WORKER_THREADS`` threads (as many as the local worker has): ReceiveMessage (batches of 5, as
  deployed), per message the claim (UpdateItem under a ``status = queued`` condition) and the result
  (PutItem), then DeleteMessageBatch. An empty receive sleeps 50 ms.
"""

import json
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import boto3
from fastapi import FastAPI

TABLE = os.environ.get("BENCH_RUNS_TABLE", "wfp-bench-runs")
QUEUE_URL = os.environ.get("BENCH_QUEUE_URL", "")
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "4"))
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
stopping = threading.Event()


def item(run_id: str, name: str, status: str, inputs: dict) -> dict:
    now = datetime.now(timezone.utc)
    values = {
        "run_id": {"S": run_id}, "workflow": {"S": name}, "trigger": {"S": "webhook"}, "status": {"S": status},
        "attempt": {"N": "1"}, "created_at": {"S": now.isoformat()}, "inputs": {"S": json.dumps(inputs)},
        "output_truncated": {"BOOL": False}, "queued": {"BOOL": True},
        "expires_at": {"N": str(int((now + timedelta(days=90)).timestamp()))},
    }
    if status != "queued":
        values.update(started_at={"S": now.isoformat()}, finished_at={"S": now.isoformat()},
                      duration_ms={"N": "0"}, output={"S": "{}"})
    return values


def work() -> None:
    while not stopping.is_set():
        messages = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=5,
                                       WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            time.sleep(0.05)
            continue
        for message in messages:
            body = json.loads(message["Body"])
            try:
                dynamodb.update_item(
                    TableName=TABLE, Key={"run_id": {"S": body["run_id"]}},
                    UpdateExpression="SET #s = :running, started_at = :now ADD attempt :one",
                    ConditionExpression="#s = :queued", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":running": {"S": "running"}, ":queued": {"S": "queued"},
                                               ":now": {"S": datetime.now(timezone.utc).isoformat()},
                                               ":one": {"N": "1"}})
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue
            dynamodb.put_item(TableName=TABLE, Item=item(body["run_id"], body["workflow"], "success", body["data"]))
        sqs.delete_message_batch(QueueUrl=QUEUE_URL, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    threads = [threading.Thread(target=work, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    yield
    stopping.set()


app = FastAPI(lifespan=lifespan)


@app.post("/api/webhooks/{name}", status_code=202)
def webhook(name: str, body: dict) -> dict:
    run_id = f"{int(time.time() * 1000):012x}{secrets.token_hex(6)}"
    dynamodb.put_item(TableName=TABLE, Item=item(run_id, name, "queued", body),
                      ConditionExpression="attribute_not_exists(run_id)")
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({"run_id": run_id, "workflow": name, "data": body}))
    return {"run_id": run_id, "status": "queued"}


@app.get("/api/runs/{run_id}")
def run(run_id: str) -> dict:
    found = dynamodb.get_item(TableName=TABLE, Key={"run_id": {"S": run_id}}, ConsistentRead=True).get("Item")
    return {"run_id": run_id, "status": found["status"]["S"] if found else None}


@app.get("/api/health")
async def health() -> dict:
    return {"status": "ok"}
