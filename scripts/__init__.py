"""Maintenance scripts for EmbedLens (importable so tests can reuse their helpers)."""
