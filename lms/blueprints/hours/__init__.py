from lms.blueprints.hours.routes import bp

__all__ = ["bp"]
