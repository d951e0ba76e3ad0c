"""The public catalogue of procedures: search, filters and each procedure's page (no sign-in)."""
