"""HTTP endpoints beside the Dash app: CSV exports, the health check and the block polygon upload."""

from dashboard.api import blocks as _blocks  # noqa: F401 - registers the upload routes on the blueprint
from dashboard.api.routes import blueprint

__all__ = ["blueprint"]
