"""The monthly assessment (考核): rates, composite, ranks and governance focus per unit and month.

One set of Ibis expressions runs on DuckDB, PostgreSQL and Spark; see docs/assessment.md.
`rules` holds the rules as plain Python, `expressions` and `ranking` the engine, `engine` runs it,
`explain`, `whatif`, `trends`, `cohandling` and `publish` build on it, `cli` is `megacity assess`
and `service` serves the API.
"""
