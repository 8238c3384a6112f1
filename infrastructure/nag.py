"""The static checks every synthesis must pass, and the one way this app answers each finding.

* cdk-nag (3.x) AwsSolutions checks run on every synthesis: a finding that is not acknowledged fails
  it. ``acknowledge`` records one, next to the resource it is about, with the reason.
* checkov scans the synthesized template (``tests/infrastructure/test_checkov.py``, run by CI): it
  reads skips from each resource's CloudFormation ``Metadata``. ``checkov_skip`` writes one, next to
  the resource, with the reason; checkov prints the reason with the skipped check.

Both say *why* on the resource itself, so a reviewer reading the stack sees the decision where it
applies, and a finding on a new resource is never silenced by an acknowledgment made elsewhere.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnResource, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, finding: str | None = None) -> None:
    """Acknowledge AwsSolutions ``rule`` (e.g. ``"IAM5"``) on ``scope`` and its children, optionally only
    one ``finding`` of it (e.g. ``"Resource::*"``)."""
    rule_id = f"AwsSolutions-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def cfn_resource(scope: IConstruct) -> CfnResource:
    """The CloudFormation resource of a construct: itself, or its default child (a ``Function``'s
    ``CfnFunction``...)."""
    if isinstance(scope, CfnResource):
        return scope
    child = scope.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to carry a checkov skip")
    return child


def checkov_skip(scope: IConstruct, check_id: str, reason: str) -> None:
    """Tell checkov to skip ``check_id`` (e.g. ``"CKV_AWS_117"``) on this resource, and why.

    Written as ``Metadata: {"checkov": {"skip": [{"id": ..., "comment": reason}]}}``, merged with the
    skips already there; other metadata of the resource (``cfn-lint``'s ignore list...) is kept.
    """
    if not reason.strip():
        raise ValueError(f"checkov_skip({check_id}): say why")
    resource = cfn_resource(scope)
    current = resource.get_metadata("checkov") or {}
    skips = [s for s in current.get("skip", []) if s.get("id") != check_id]
    resource.add_metadata("checkov", {**current, "skip": [*skips, {"id": check_id, "comment": reason}]})


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
