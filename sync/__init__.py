"""Offline sync for crew tablets: devices, change feed, pull and push (docs/sync-protocol.md)."""
