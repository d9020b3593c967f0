"""The timeline: an append-only record of everything that happened to a case and its work."""
