"""Static validation of the synthesized template: cfn-lint, and cdk-nag's AwsSolutions checks."""

from __future__ import annotations

import json

import pytest


def test_cfn_lint_finds_nothing(dev, prod, with_options):
    from cfnlint.api import lint_file

    for synth in (dev, prod, with_options):
        assert [str(m) for m in lint_file(synth.template_file)] == []


def test_cdk_nag_reports_no_unacknowledged_finding(dev, prod, with_options):
    for synth in (dev, prod, with_options):
        report = json.loads((synth.outdir / "validation-report.json").read_text())
        failures = [r for r in report["pluginReports"] if r.get("conclusion") != "success"]
        assert failures == []


def test_cdk_nag_does_run_and_fails_a_finding(tmp_path):
    """The checks are live: the same plugin setup fails a stack with an unacknowledged finding."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from infrastructure.nag import acknowledge, add_checks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "probe")
    queue = sqs.Queue(stack, "NoDlq")  # no dead-letter queue (SQS3), SSL not enforced (SQS4)
    acknowledge(queue, "SQS4", "acknowledged: must not be reported")
    add_checks(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert rules == {"AwsSolutions-SQS3"}


def test_every_acknowledgment_sits_on_a_resource_and_says_why(dev, prod):
    for synth in (dev, prod):
        acknowledged = synth.metadata("aws:cdk:acknowledged-rules")
        assert acknowledged
        stack_path = f"/{synth.stack.stack_name}"
        for path, rules in acknowledged:
            assert path.startswith(stack_path + "/"), f"acknowledged on the whole stack: {rules}"
            for rule, reason in rules.items():
                assert rule.startswith("Annotation::AwsSolutions-")
                assert len(reason) >= 60, f"{path} {rule}: say why ({reason!r})"


# ----- as `cdk deploy` synthesizes: account and region known ---------------------------------------------
def test_an_account_specific_synthesis_is_clean(deployed):
    """With credentials the CLI sets CDK_DEFAULT_ACCOUNT/REGION: the stack becomes account-specific, and
    cdk-nag (raised in the fixture otherwise) and cfn-lint must stay clean."""
    from cfnlint.api import lint_file

    manifest = json.loads((deployed.outdir / "manifest.json").read_text())
    stack = manifest["artifacts"][deployed.stack.stack_name]
    assert stack["environment"] == f"aws://{deployed.stack.account}/{deployed.stack.region}"
    assert deployed.stack.account.isdigit() and deployed.stack.region in ("us-east-1", "eu-west-3")
    report = json.loads((deployed.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("conclusion") != "success"] == []
    assert [str(m) for m in lint_file(deployed.template_file)] == []


def test_acknowledgments_are_the_same_whatever_the_account_and_region(dev, deployed):
    """An acknowledgment written for one account would not match another's findings."""
    def rules(synth):
        stage = synth.stack.stack_name
        return {(path.replace(stage, "<stack>"), rule.replace(stage, "<stack>"))
                for path, found in synth.metadata("aws:cdk:acknowledged-rules") for rule in found}

    assert rules(deployed) == rules(dev)
    for _, rule in rules(deployed):
        assert deployed.stack.account not in rule and deployed.stack.region not in rule


def test_no_warning_is_printed_on_every_synth(dev, deployed):
    for synth in (dev, deployed):
        assert synth.annotations("aws:cdk:warning") == []
