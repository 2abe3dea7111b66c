from lms.blueprints.attendance.routes import bp

__all__ = ["bp"]
