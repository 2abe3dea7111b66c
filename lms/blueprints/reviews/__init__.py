from lms.blueprints.reviews.routes import bp

__all__ = ["bp"]
