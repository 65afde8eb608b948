"""ASGI entry for process managers: `uvicorn megacity.web.asgi:app` (settings from the environment)."""

from megacity.web.app import create_app

app = create_app()
