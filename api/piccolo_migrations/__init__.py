"""Piccolo migrations for the `fieldloop` app: additive only, run on SQLite and PostgreSQL."""
