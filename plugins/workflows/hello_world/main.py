"""A first workflow: validated inputs in, a result and some log lines out."""

import logging
from typing import Any, Dict

logger = logging.getLogger(__name__)

GREETINGS = {"en": "Hello", "fr": "Bonjour", "es": "Hola"}


def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    data = data or {}
    times = data.get("times", 1)
    if not 1 <= times <= 10:
        return {"status": "error", "message": f"times must be between 1 and 10, got {times}"}
    greeting = f"{GREETINGS[data.get('language', 'en')]}, {data['name']}!"
    if data.get("shout"):
        greeting = greeting.upper()
    logger.info("greeting %s %d time(s)", data["name"], times)
    if data.get("email"):
        logger.info("would send the greeting to %s", data["email"])
    return {"status": "success", "message": greeting, "data": {"greetings": [greeting] * times}}
