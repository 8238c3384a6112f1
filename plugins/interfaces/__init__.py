"""Interfaces: each folder holds main.py (ROUTE, get_router) and static files in src/."""
