from lms.blueprints.reports.routes import bp

__all__ = ["bp"]
