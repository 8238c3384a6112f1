"""What failure handling (``on_error``, ``functions.core.notify``) needs deployed, beyond the notices table
(derived from its model like every table, granted to the three functions: a run fails wherever it runs).

- An error workflow is queued from wherever a run fails: the api and the worker may send to the runs
  queue already; the scheduler (scheduled runs, the sweep's interrupted runs) gets the same grant when
  a workflow or the platform default (``WFP_ON_ERROR``) names an error workflow.
- Email notices: ``ses:SendEmail`` on the one identity ``WFP_NOTIFY_EMAIL_FROM`` names (the address's
  identity and its domain's, in this stack's region: SES authorizes against whichever is verified), with
  the ``ses:FromAddress`` condition: the functions can send as that address only. Nothing without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam

from functions.registry.config import WorkflowConfig
from functions.registry.discovery import Registry
from functions.registry.on_error import OnError
from functions.settings import Settings

if TYPE_CHECKING:
    from infrastructure.stack import PlatformStack


def names_error_workflow(registry: Registry, settings: Settings) -> bool:
    configs = [p.config for p in registry.of_kind("workflow") if isinstance(p.config, WorkflowConfig)]
    if any(c.on_error is not None and c.on_error.workflow for c in configs):
        return True
    if settings.on_error:
        try:
            return bool(OnError.model_validate_json(settings.on_error).workflow)
        except ValueError as exc:
            raise ValueError(f"WFP_ON_ERROR is not a valid on_error: {exc}") from None
    return False


def identity_arns(stack: PlatformStack, sender: str) -> list[str]:
    domain = sender.rsplit("@", 1)[-1]
    return [stack.stage_arn(service="ses", resource="identity", resource_name=name)
            for name in dict.fromkeys([sender, domain])]


def grant_failure_handling(stack: PlatformStack) -> None:
    if names_error_workflow(stack.registry, stack.settings):
        stack.queue.grant_send_messages(stack.scheduler_function)
        stack.queue.grant_send_messages(stack.durable_function)  # a durable run fails there
    sender = stack.settings.notify_email_from
    if sender:
        if "@" not in sender:
            raise ValueError(f"WFP_NOTIFY_EMAIL_FROM={sender!r} must be an email address (an SES identity)")
        statement = iam.PolicyStatement(actions=["ses:SendEmail"], resources=identity_arns(stack, sender),
                                        conditions={"StringEquals": {"ses:FromAddress": sender}})
        for function in stack.functions.values():
            function.add_to_role_policy(statement)
