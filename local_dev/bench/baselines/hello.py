"""Baseline (a): the smallest FastAPI app behind Mangum, one async JSON route."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/api/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


handler = Mangum(app, lifespan="off")
