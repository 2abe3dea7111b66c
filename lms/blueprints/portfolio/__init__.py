from lms.blueprints.portfolio.routes import bp

__all__ = ["bp"]
