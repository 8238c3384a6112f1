"""Durable workflows: the context a durable workflow's ``execute(data, tools, ctx)`` gets, over the AWS
durable execution SDK, and the run it keeps up to date.

- ``context.py``: ``DurableRun``, the ``ctx`` (steps, sleeps, approvals, callbacks);
- ``recorder.py``: the run record during an invocation (steps, waits, callbacks granted, the outcome);
- ``runner.py``: one invocation of the durable handler (``functions.handlers.durable``) for a run;
- ``errors.py``: what the context raises into workflow code.

Imported by the durable handler and the local durable backend only (it imports the SDK, and the SDK
boto3): the api function never imports it.
"""
