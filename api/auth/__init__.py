"""Users, roles, passwords and login tokens; access rules live in `api.access`."""
