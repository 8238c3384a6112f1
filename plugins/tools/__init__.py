"""Tools: API connectors with credential profiles. Each folder holds config.json + main.py."""
