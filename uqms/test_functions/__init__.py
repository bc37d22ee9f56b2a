"""Analytic test functions written as stages, with their reference values (like SALib's)."""

from uqms.test_functions import ishigami

__all__ = ["ishigami"]
