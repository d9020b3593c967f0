"""The service catalogue: departments and the kinds of request (Open311 services) they own."""
