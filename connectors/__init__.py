"""Adapters at the edge: they read and write bytes and know no database."""
