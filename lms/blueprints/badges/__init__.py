from lms.blueprints.badges.routes import bp

__all__ = ["bp"]
