"""Work orders: field work created from a case, dispatched to a crew, walked through states."""
