"""The indicator engine's user-error type, in a module light enough for the CLI to import."""


class IndicatorError(ValueError):
    """A user mistake in data, metadata or a pipeline: printed as one line, exit code 2."""
