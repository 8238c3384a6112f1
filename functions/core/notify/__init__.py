"""Failure handling: what a workflow's ``on_error`` (``functions.registry.on_error``) asks for when one of its
runs ends ``error``, ``timed_out`` or ``interrupted`` for good, and the recovery notice when it succeeds again.

- ``failures.FailureHandler``: the run hook (``Engine.finish`` calls it after the final save) and the
  callback of the closes that have no record in hand (the sweep's interrupted runs, the worker's last
  delivery); the de-duplication through the ``NoticeStore`` (``state``), then the channels.
- ``base.Notifier`` and its providers: ``slack`` (incoming webhook), ``webhook`` (JSON signed with the
  platform's HMAC scheme), ``email`` (through the ``Mailer`` port: SES deployed, moto locally).
- ``profiles``: the built-in tools ``notify_slack`` / ``notify_webhook`` whose profiles hold the secrets.
"""

from functions.core.notify.base import Notice, Notifier, NotifierError
from functions.core.notify.failures import FAILED_STATUSES, FailureHandler
from functions.core.notify.state import NoticeState, NoticeStore

__all__ = ["FAILED_STATUSES", "FailureHandler", "Notice", "NoticeState", "NoticeStore", "Notifier", "NotifierError"]
