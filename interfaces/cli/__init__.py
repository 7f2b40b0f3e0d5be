"""The `beacon` command: serve the API, run projections and workers, administer tenants."""

from interfaces.cli.root import app, main

__all__ = ["app", "main"]
