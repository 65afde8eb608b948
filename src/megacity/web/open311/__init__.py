"""Open311 GeoReport v2 under /open311/v2: services from the dispatch catalogue, requests in and out.

See docs/open311.md. `router.router` is the FastAPI router, `cli.app` the `megacity apikey` commands.
"""
