"""One module per page; each exposes ``page()``."""
