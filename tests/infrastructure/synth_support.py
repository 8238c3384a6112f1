"""Names shared by the infrastructure fixtures and tests (a conftest cannot be imported by name)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: A workflow whose rule name (wfp-prod-cron-<name>) would pass EventBridge's 64 characters.
LONG_NAME = "quarterly_compliance_evidence_collection_for_auditors_x"
