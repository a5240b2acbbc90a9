"""The web application: reviewers, coordinators, providers and operators, signed in, scoped by role,
body and district, audited.

Server-rendered (Starlette/FastAPI with Jinja2, served by uvicorn), no script at all, so a strict
Content-Security-Policy holds (the live report's inline styles are allowed by hash, ``security``).
Pages reach the data only through ``pipeline`` (as the command line does), under the signed-in
user as the audit log's actor (``web:<name>``).
"""
