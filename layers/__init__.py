"""The shared Lambda layer: ``python -m layers.build``."""
