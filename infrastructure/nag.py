"""cdk-nag (3.x) AwsSolutions checks, and the one way this app acknowledges a finding.

Every acknowledgment is made next to the resource it is about, with the reason, through
``acknowledge``; a finding that is not acknowledged fails the synthesis.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, finding: str | None = None) -> None:
    """Acknowledge AwsSolutions ``rule`` (e.g. ``"IAM5"``) on ``scope`` and its children, optionally only
    one ``finding`` of it (e.g. ``"Resource::*"``)."""
    rule_id = f"AwsSolutions-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
