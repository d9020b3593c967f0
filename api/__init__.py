"""Fieldloop's HTTP API and domain logic: one package per domain, assembled in `api.app`."""
