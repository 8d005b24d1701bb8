"""evaltool: qualitative coding for realist evaluation of Danish focus groups."""

__version__ = "0.1.0"
