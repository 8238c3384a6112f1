"""FastAPI's own OpenTelemetry instrumentation is off unless ``WFP_OPENTELEMETRY`` asks for it.

Off, a request costs no check for a configured provider; on, a function given an OTel SDK (the ADOT
layer) gets FastAPI's request spans. Run in a fresh interpreter: the OpenTelemetry API's global
tracer provider can be set once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

CODE = """
import json
from opentelemetry import trace

spans = []

class Tracer(trace.NoOpTracer):
    def start_span(self, name, *args, **kwargs):
        spans.append(name)
        return super().start_span(name, *args, **kwargs)

class Provider(trace.TracerProvider):
    def get_tracer(self, *args, **kwargs):
        return Tracer()

trace.set_tracer_provider(Provider())

from starlette.testclient import TestClient
from functions.http.app import create_app
from functions.platform import Platform
from functions.settings import Settings

status = TestClient(create_app(Platform(Settings()))).get("/docs").status_code
print(json.dumps({"status": status, "spans": spans}))
"""


@pytest.mark.parametrize("setting, traced", [(None, False), ("false", False), ("true", True)])
def test_fastapi_spans_follow_the_setting(setting, traced, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WFP_", "OTEL_", "FASTAPI_OTEL"))}
    env.update(PYTHONPATH=str(REPO), WFP_PLUGINS_DIR=str(tmp_path))
    if setting is not None:
        env["WFP_OPENTELEMETRY"] = setting
    done = subprocess.run([sys.executable, "-c", CODE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    assert bool(seen["spans"]) is traced, seen["spans"]
