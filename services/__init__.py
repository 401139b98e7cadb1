"""Collateral services: content, usage, feedback, the portal, and their shared machinery."""
