from lms.blueprints.people.routes import bp

__all__ = ["bp"]
