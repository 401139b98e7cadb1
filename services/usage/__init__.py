"""Usage service: usage events, share links and usage reports (see docs/usage.md)."""
