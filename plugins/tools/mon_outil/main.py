"""The seed's template tool, kept as written apart from its logger import."""

import logging
from typing import Any, Dict, List

from ..base import BaseTool

logger = logging.getLogger(__name__)


class MonOutilTool(BaseTool):
    def authenticate(self) -> bool:
        if not self.validate_config():
            return False

        # Test de connexion
        api_key = self.config.get('api_key')
        if not api_key:
            logger.error("API key missing")
            return False

        self.authenticated = True
        return True

    def execute(self, action: str, params: Dict[str, Any] = None) -> Dict[str, Any]:
        params = params or {}

        if not self.is_authenticated():
            return {"error": "Not authenticated"}

        if action == "search":
            return self._search(params)

        return {"error": f"Action {action} not supported"}

    def get_available_actions(self) -> List[str]:
        return ["search"]

    def _search(self, params: Dict[str, Any]) -> Dict[str, Any]:
        query = params.get('query')
        if not query:
            return {"error": "Query parameter required"}

        try:
            limit = int(params.get('limit', 10))
            # Votre logique API ici: this template answers with made-up results.
            results = {"query": query, "results": [f"{query} #{i + 1}" for i in range(min(limit, 3))]}
            return {"status": "success", "data": results}
        except Exception as e:
            logger.error(f"Search error: {e}")
            return {"error": str(e)}
