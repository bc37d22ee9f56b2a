"""Chemistry shared by every scale: mechanisms, their species and gas thermochemistry.

A leaf package: it imports nothing else from uqms but the configuration helpers, so
energetics, micro-kinetics and reactors all build on it without import cycles.
"""
