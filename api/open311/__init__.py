"""Open311 GeoReport v2 at /open311/v2, in XML and JSON (docs/open311.md)."""
