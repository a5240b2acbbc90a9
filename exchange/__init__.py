"""Exchange rules as pure functions: consent, case summaries per recipient. No database, no I/O."""
