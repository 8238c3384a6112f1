"""checkov, an independent IaC scanner, finds nothing in the synthesized templates: each of its checks
passes, or is skipped on its resource with the reason (``infrastructure.nag.checkov_skip``).

checkov runs in its own virtualenv (it pins its own versions of many libraries): ``WFP_CHECKOV`` names the
executable, else ``build/tools/checkov-venv`` (where ``tests/run.sh`` installs it), else ``checkov`` on
PATH. Without it this test fails, saying how to install it: CI must scan, never skip silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from synth_support import REPO

CHECKOV_VENV = REPO / "build" / "tools" / "checkov-venv"
#: The version tests/run.sh installs (a new checkov adds checks: upgrade on purpose, with the fixes).
CHECKOV_VERSION = "3.3.30"
#: As for cdk-nag acknowledgments (test_template_checks): a reason, not a shrug.
MIN_REASON = 60


def checkov() -> str:
    candidates = [os.environ.get("WFP_CHECKOV"), str(CHECKOV_VENV / "bin" / "checkov"), shutil.which("checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("checkov is not installed. ./tests/run.sh installs it (into build/tools/checkov-venv); by hand: "
                f"python3 -m venv {CHECKOV_VENV.relative_to(REPO)} && "
                f"{CHECKOV_VENV.relative_to(REPO)}/bin/pip install checkov=={CHECKOV_VERSION}, "
                "or set WFP_CHECKOV to a checkov executable")


def scan(template: Path) -> dict[str, Any]:
    """checkov's JSON report for one template (offline: --skip-download, nothing fetched)."""
    result = subprocess.run([checkov(), "-f", template.name, "--framework", "cloudformation", "--skip-download",
                             "-o", "json"], cwd=template.parent, capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().startswith("{"), f"checkov failed to run:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] == len(json.loads(template.read_text())["Resources"])
    return report


def declared_skips(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(resource, check) of every skip written in the template's Metadata."""
    return {(f"{r['Type']}.{logical_id}", skip["id"])
            for logical_id, r in template["Resources"].items()
            for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def assert_clean(synth: Any) -> dict[str, Any]:
    report = scan(synth.template_file)
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results.get("failed_checks", [])]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["passed"] > 50
    skipped = results.get("skipped_checks", [])
    for check in skipped:
        reason = check["check_result"].get("suppress_comment") or ""
        assert len(reason) >= MIN_REASON, f"{check['check_id']} on {check['resource']}: say why ({reason!r})"
    # every skip written in the stack is one checkov applied (a skip for a check that does not run on
    # that resource would be a typo, or a left-over)
    assert {(c["resource"], c["check_id"]) for c in skipped} == declared_skips(synth.template)
    return report


def test_checkov_finds_nothing_in_dev_and_prod(dev, prod):
    for synth in (dev, prod):
        assert_clean(synth)


def test_checkov_finds_nothing_as_deployed(deployed):
    assert_clean(deployed)


def test_reserved_concurrency_passes_checkov_without_a_skip(with_options):
    report = assert_clean(with_options)
    passed = {(c["resource"], c["check_id"]) for c in report["results"]["passed_checks"]}
    functions = [f"AWS::Lambda::Function.{k}" for k in with_options.resources("AWS::Lambda::Function")]
    assert {(f, "CKV_AWS_115") for f in functions} <= passed


def test_skips_keep_the_other_metadata_of_their_resource(dev):
    """The functions carry cfn-lint's ignore list too: checkov_skip merges, it does not overwrite."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from infrastructure.nag import checkov_skip

    for function in dev.resources("AWS::Lambda::Function").values():
        assert function["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}
        assert {s["id"] for s in function["Metadata"]["checkov"]["skip"]} >= {"CKV_AWS_117", "CKV_AWS_173"}

    stack = Stack(App(), "probe")
    queue = sqs.Queue(stack, "Queue")
    queue.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W1"]}})
    checkov_skip(queue, "CKV_AWS_27", "first reason")
    checkov_skip(queue, "CKV_AWS_999", "another check")
    checkov_skip(queue, "CKV_AWS_27", "the reason, restated")  # the same check: replaced, not duplicated
    metadata = stack.resolve(queue.node.default_child.cfn_options.metadata)
    assert metadata["cfn-lint"] == {"config": {"ignore_checks": ["W1"]}}
    assert metadata["checkov"] == {"skip": [{"id": "CKV_AWS_999", "comment": "another check"},
                                            {"id": "CKV_AWS_27", "comment": "the reason, restated"}]}
    with pytest.raises(ValueError, match="say why"):
        checkov_skip(queue, "CKV_AWS_1", " ")


# ----- what the skips say is true ------------------------------------------------------------------------
def test_function_environments_hold_names_not_secrets(dev, prod):
    """CKV_AWS_173's reason: a variable that sounds secret holds the name of a secret or of a resource
    (``WFP_TOKENS_TABLE``), or is an on/off flag, never a value."""
    for synth in (dev, prod):
        secrets = {s["Properties"]["Name"] for s in synth.resources("AWS::SecretsManager::Secret").values()}
        checked = 0
        for function in synth.resources("AWS::Lambda::Function").values():
            for name, value in function["Properties"]["Environment"]["Variables"].items():
                if any(word in name for word in ("SECRET", "TOKEN", "PASSWORD", "KEY", "CREDENTIAL")):
                    checked += 1
                    named = isinstance(value, dict) and value.get("Ref") in synth.template["Resources"]  # a table
                    assert named or (isinstance(value, str) and value in secrets | {"0", "1"}), (name, value)
        assert checked >= 3  # the admin token's secret name in each function
