"""The seed's example interface, as written (it triggers the hello_world workflow)."""

import os

from fastapi import APIRouter
from fastapi.responses import FileResponse

DISPLAY_NAME = "Mon Interface"
DESCRIPTION = "Interface personnalisée"
ROUTE = "/mon-interface"
ICON = "🎯"

router = APIRouter(prefix=ROUTE)

@router.get("/")
def get_interface():
    return FileResponse(os.path.join(os.path.dirname(__file__), "src", "index.html"))

def get_router():
    return router
