"""The hub's kernel: the error tree and the row types every room shares.

It imports nothing of the hub, so any room may import it (``docs/architecture.md``)."""
