"""The durable backend deployed: AWS Lambda durable functions, through boto3 (``functions.core.durable``).

- ``start``: ``Invoke`` of the durable function (``WFP_DURABLE_FUNCTION``, qualified: ``name:alias``) with
  ``InvocationType=Event`` and ``DurableExecutionName`` = the execution's name (``<run id>-<n>``): the
  service starts one execution per name, so a retried start starts nothing more.
- ``send_callback``: ``SendDurableExecutionCallbackSuccess`` (the payload as JSON) or ``...Failure``; a
  callback the service no longer waits on (answered, timed out) is a ``Conflict``, an unknown one
  ``NotFound``.
- ``state``: ``ListDurableExecutionsByFunction`` filtered on the name (the ARN is not known here).

IAM (the stack's side): ``lambda:InvokeFunction`` on the durable function's alias,
``lambda:SendDurableExecutionCallbackSuccess``/``Failure`` and ``lambda:ListDurableExecutionsByFunction``
on it, for the api, worker and scheduler functions; the durable function itself needs
``lambda:CheckpointDurableExecution`` and ``lambda:GetDurableExecutionState`` on itself.
"""

from __future__ import annotations

import json
from typing import Any

from functions.aws.clients import Clients
from functions.errors import Conflict, NotFound, Unavailable


class LambdaDurableBackend:
    def __init__(self, clients: Clients, function: str | None) -> None:
        if not function:
            raise Unavailable("durable workflows need the durable Lambda function: set WFP_DURABLE_FUNCTION to "
                              "its qualified name (the stack sets it)")
        self.clients = clients
        name, _, qualifier = function.rpartition(":") if function.count(":") in (1, 7) else (function, "", "")
        self.function, self.qualifier = (name, qualifier) if qualifier else (function, None)

    @property
    def client(self) -> Any:
        return self.clients.get("lambda")

    def start(self, execution: str, event: dict[str, Any]) -> None:
        params: dict[str, Any] = {"FunctionName": self.function, "InvocationType": "Event",
                                  "DurableExecutionName": execution,
                                  "Payload": json.dumps(event, default=str).encode()}
        if self.qualifier:
            params["Qualifier"] = self.qualifier
        self.client.invoke(**params)

    def send_callback(self, callback_id: str, ok: bool, payload: Any) -> None:
        from botocore.exceptions import ClientError

        try:
            if ok:
                self.client.send_durable_execution_callback_success(
                    CallbackId=callback_id, Result=json.dumps(payload, default=str).encode())
            else:
                error = payload.get("error") if isinstance(payload, dict) else str(payload)
                self.client.send_durable_execution_callback_failure(
                    CallbackId=callback_id, Error={"ErrorType": "Rejected", "ErrorMessage": str(error)[:1000]})
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise NotFound("the durable execution no longer waits on this callback (unknown to the "
                               "service)") from None
            if code in ("InvalidParameterValueException", "CallbackTimeoutException"):
                raise Conflict(f"the callback was already answered or timed out ({code})") from None
            raise

    def state(self, execution: str) -> str | None:
        params: dict[str, Any] = {"FunctionName": self.function, "DurableExecutionName": execution}
        if self.qualifier:
            params["Qualifier"] = self.qualifier
        found = self.client.list_durable_executions_by_function(**params).get("DurableExecutions") or []
        return found[0].get("Status") if found else None
