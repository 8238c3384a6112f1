"""Webhooks: who may start a run by POSTing to ``/api/webhooks/{workflow}``, and what the run sees.

A workflow picks its sender's scheme with ``"webhook_auth"`` in its config.json (``providers``): the
platform's own (``secret``, the default: a token or an HMAC signature; ``token``; ``hmac``), a
service's (``github``, ``stripe``, ``slack``), or ``none``. ``auth.authenticate`` checks the request
against the workflow's secret before its body is parsed or anything is recorded, and returns the
``Delivery``: the sender's delivery id (one run per delivery) and, for a handshake (Slack's
``url_verification``, GitHub's ``ping``), the answer to give without starting a run.
``request_view`` is the request as a workflow asking for it (``"webhook_request": true``) receives it.
"""
