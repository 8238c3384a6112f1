"""``wfp deploy --rehearse`` as a user runs it: the pinned CDK CLI (``npm ci``) against the stand-in AWS.

One rehearsal per test session (about a minute once the layer's wheels are cached): bootstrap, the
CLI's own synthesis with the account the stand-in's STS gives, deploy, the resources checked against
the models and plugins, ``wfp urls``, ``wfp profiles push``, destroy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"
PHASES = ["prerequisites", "synth", "bootstrap", "deploy", "verify", "urls", "profiles push", "destroy"]


@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    if not CDK.exists():
        pytest.fail(f"{CDK} is missing: run 'npm ci' in the repository (tests/run.sh does)")
    tmp = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WFP_", "CDK_"))}
    return subprocess.run([sys.executable, "-m", "local_dev.cli", "deploy", "--rehearse", "--stage", "rehearsal",
                           "--region", "eu-west-3", "-c", f"build_dir={tmp / 'build'}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def test_the_rehearsal_passes_every_phase(rehearsal):
    assert rehearsal.returncode == 0, rehearsal.stdout[-6000:] + rehearsal.stderr[-3000:]
    lines = rehearsal.stdout.splitlines()
    assert lines[0] == "deploy rehearsal of wfp-rehearsal in eu-west-3 (stand-in AWS: moto)"
    phases = {line.split()[1] if line.split()[1] != "profiles" else "profiles push": line
              for line in lines[1:len(PHASES) + 1]}
    assert sorted(phases) == sorted(PHASES)
    assert all(line.startswith("  ok ") for line in phases.values()), "\n".join(phases.values())
    assert lines[-1] == "rehearsal passed"


def test_the_cli_synthesized_for_the_account_its_credentials_resolve_to(rehearsal):
    (synth,) = [line for line in rehearsal.stdout.splitlines() if line.startswith("  ok   synth")]
    assert "stack for aws://123456789012/eu-west-3, cdk-nag clean" in synth
    (prerequisites,) = [line for line in rehearsal.stdout.splitlines() if line.startswith("  ok   prerequisites")]
    assert "account 123456789012 (the stand-in's STS), region eu-west-3" in prerequisites


def test_the_created_resources_were_checked_one_by_one(rehearsal):
    out = rehearsal.stdout
    assert "Stack wfp-rehearsal: " in out and ", 0 failed" in out
    for expected in ("table runs_table", "runs queue redrives to its dead-letter queue",
                     "function api environment", "worker consumes the runs queue",
                     "rule wfp-rehearsal-daily_digest target", "sweep rule wfp-rehearsal-stale-run-sweep",
                     "admin token secret wfp-rehearsal/admin-token", "output ApiUrl",
                     "API Gateway invokes the api function's alias"):
        assert expected in out, expected
    assert "https://" in out and ".execute-api.eu-west-3.amazonaws.com/rehearsal/" in out
    assert "created wfp-rehearsal/profiles/mon_outil/REHEARSAL (api_key)" in out


def test_the_report_says_what_only_a_real_account_proves(rehearsal):
    out = rehearsal.stdout
    assert "Not checkable on the stand-in:" in out and "Not proven by a rehearsal (a real account only):" in out
    for limit in ("IAM", "invocations", "updates", "--method=direct"):
        assert limit in out


def test_the_deployed_assembly_is_kept_with_the_logs(rehearsal):
    """What was deployed can be read afterwards, in the rehearsal's own folder (not the user's cdk.out)."""
    logs = Path(rehearsal.stdout.split("CDK CLI and stand-in logs: ")[1].split()[0])
    assembly = json.loads((logs / "cdk.out" / "manifest.json").read_text())
    assert "wfp-rehearsal" in assembly["artifacts"]
    assert (logs / "cdk-deploy.log").read_text().count("wfp-rehearsal") > 0
    assert logs != REPO / "cdk.out" and REPO not in logs.parents
