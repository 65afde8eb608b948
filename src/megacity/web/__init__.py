"""Web entrypoint: the JSON API, the pages and (later) Open311, on FastAPI."""
