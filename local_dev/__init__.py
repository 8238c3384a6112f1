"""The local platform: the same FastAPI app under uvicorn, with moto standing in for AWS."""
