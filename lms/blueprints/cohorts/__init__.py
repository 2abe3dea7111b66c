from lms.blueprints.cohorts import imports  # noqa: F401  (registers the import views)
from lms.blueprints.cohorts.routes import bp

__all__ = ["bp"]
