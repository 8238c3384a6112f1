"""Tools import their base class from here, as in the seed: ``from ..base import BaseTool``."""

from functions.registry.base_tool import BaseTool

__all__ = ["BaseTool"]
