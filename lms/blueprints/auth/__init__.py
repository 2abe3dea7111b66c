from lms.blueprints.auth.routes import bp

__all__ = ["bp"]
