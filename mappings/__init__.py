"""Source rows → standard case summaries; code lists and column maps kept as data."""
