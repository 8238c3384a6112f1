"""Workflow Platform: everything that runs inside a Lambda (and, unchanged, in the local server)."""
