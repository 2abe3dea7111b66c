from lms.blueprints.calendar.routes import bp

__all__ = ["bp"]
