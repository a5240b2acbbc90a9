"""The `kim-hub` command line: one module per command family, thin over the pipeline and flows.

main        the parser from every family, errors → exit codes, a quiet end on a closed pipe
commands    the one helper that builds commands and command groups (``--home``, examples)
setup       init, sources add / list / check
sync        ingest, push, reestimate, retention, serve (the Prefect flows)
index       links, review list / decide, erase, keys rotate
exchange    gaps, transitions
audit       audit (list), audit verify, audit purge
reports     report, monitoring
data        generate, schema, demo
"""
