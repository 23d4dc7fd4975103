"""Placeholder package: see ../shared/DESIGN.md for what lands here."""
