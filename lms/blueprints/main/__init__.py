from lms.blueprints.main.routes import bp

__all__ = ["bp"]
