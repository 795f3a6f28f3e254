"""HTTP endpoints beside the Dash app: CSV exports and the health check."""

from dashboard.api.routes import blueprint

__all__ = ["blueprint"]
