"""The JSON API (``api``, /api/v1, token authentication) and the coordinator's pages for API keys
(``api_tokens``, /api/keys)."""

from lms.blueprints.api.routes import bp
from lms.blueprints.api.tokens import bp as tokens_bp

__all__ = ["bp", "tokens_bp"]
