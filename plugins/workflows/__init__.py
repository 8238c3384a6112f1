"""Workflows: each folder holds config.json + main.py with execute(data, tools)."""
