"""Lambda ``durable``: the one durable handler of durable workflows (``"durable": true``), decorated with
the SDK's ``@durable_execution``. Deployed it is the durable function the engine invokes (``Invoke`` with
``DurableExecutionName``, ``functions.aws.durable``); locally the SDK's runner calls the same function
(``local_dev.durable``). What an invocation does: ``functions.durable.runner``."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from functions.platform import get_platform


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    return get_platform().durable_runs.handle(event, context)
