from lms.blueprints.cohorts.routes import bp

__all__ = ["bp"]
