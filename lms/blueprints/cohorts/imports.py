"""Importing participants into a cohort from a CSV file (views on the cohorts blueprint)."""

from __future__ import annotations

from lms.blueprints.cohorts.routes import bp  # noqa: F401  (views below register on it)
