"""Conformance tests of the Open311 GeoReport v2 endpoints (/open311/v2)."""
