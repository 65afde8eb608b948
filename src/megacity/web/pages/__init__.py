"""Server-rendered pages (Jinja2); kept out of the OpenAPI schema."""
