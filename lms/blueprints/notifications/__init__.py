from lms.blueprints.notifications.routes import bp

__all__ = ["bp"]
