"""Prefect flows and the command line: thin, they call the rooms below and own no rules."""
