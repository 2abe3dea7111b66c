from lms.blueprints.employer.routes import bp

__all__ = ["bp"]
