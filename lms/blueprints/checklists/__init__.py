from lms.blueprints.checklists.routes import bp

__all__ = ["bp"]
