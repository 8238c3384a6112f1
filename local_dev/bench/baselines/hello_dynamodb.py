"""Baseline (b): baseline (a) whose route reads one DynamoDB item through boto3.

The client is created once, at import, as any Lambda would; the table and item are created by the
benchmark (``BENCH_TABLE``) on the moto server ``AWS_ENDPOINT_URL`` points at, so the read is a real
HTTP request.
"""

import os

import boto3
from fastapi import FastAPI
from mangum import Mangum

TABLE = os.environ.get("BENCH_TABLE", "wfp-bench-hello")
dynamodb = boto3.client("dynamodb")
app = FastAPI()


@app.get("/api/hello")
async def hello() -> dict[str, str]:
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "hello"}})["Item"]
    return {"hello": item["value"]["S"]}


handler = Mangum(app, lifespan="off")
