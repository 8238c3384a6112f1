"""Scratch scripts (the seed's temp/): run with python -m plugins.scratch.<name>; never loaded by the platform."""
