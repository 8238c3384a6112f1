"""Every botocore session of a process shares one data loader (``functions.aws.loader``): boto3's and each
pynamodb model's connection parse DynamoDB's service model once. Run in a fresh interpreter: the test
session itself shares a loader already (``tests/conftest.py``), which would hide a missing ``share``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from support import REPO, TEST_ENV


def test_the_runs_and_schedules_connections_and_boto3_share_one_loader():
    script = textwrap.dedent('''
        import json
        from functions.platform import Platform
        platform = Platform()
        platform.runs, platform.schedule_store  # binds the models (stores.base.bind)
        from functions.stores.runs import RunModel
        from functions.stores.schedules import ScheduleModel
        sessions = [RunModel._get_connection().connection.session, ScheduleModel._get_connection().connection.session]
        platform.clients.get("sqs")
        import boto3
        sessions.append(boto3.DEFAULT_SESSION._session)
        loaders = {id(s.get_component("data_loader")) for s in sessions}
        print(json.dumps({"sessions": len({id(s) for s in sessions}), "loaders": len(loaders)}))
    ''')
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WFP_"))}, **TEST_ENV,
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"sessions": 3, "loaders": 1}  # three sessions (pynamodb's two, boto3's), one loader
