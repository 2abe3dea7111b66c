from lms.blueprints.verify.routes import bp

__all__ = ["bp"]
