from lms.blueprints.links.routes import bp

__all__ = ["bp"]
