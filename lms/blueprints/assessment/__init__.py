from lms.blueprints.assessment.routes import bp

__all__ = ["bp"]
