"""What a durable workflow's context raises into its code (also reachable as ``ctx.StepFailed``,
``ctx.TimedOut``, ``ctx.NotSerializable``: plugin code needs no import). Uncaught, each becomes the run's
error, its message as is."""

from __future__ import annotations

from functions.errors import PlatformError


class StepFailed(PlatformError):
    """A ``ctx.step`` failed on its last attempt (``retries`` exhausted)."""


class TimedOut(PlatformError):
    """A ``ctx.wait_for_approval`` or ``ctx.wait_for_callback`` got no answer within its timeout."""


class NotSerializable(PlatformError):
    """A step returned something JSON cannot hold: its result could not be checkpointed."""


class RunClosed(Exception):
    """The run's record was closed meanwhile (cancelled, timed out by the sweep): the execution stops."""
