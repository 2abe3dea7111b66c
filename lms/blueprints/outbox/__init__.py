from lms.blueprints.outbox.routes import bp

__all__ = ["bp"]
