"""The household rules page: which patterns of household evidence alone link automatically in this
installation, and the counts that decided it (``linkage.household``; ``kim-hub review rules`` on
the command line).

Counts only, no person-level data, so looking at it is no read in the audit log. Reviewers see why
pairs wait in their queue or do not, coordinators why persons were linked, and the auditor (the
data-protection officer's role here) what the hub decided on its own.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kim_hub.pipeline.review import household_rules_of
from kim_hub.web.context import context_of, in_role

router = APIRouter()


@router.get("/linkage-rules")
async def linkage_rules(request: Request) -> Response:
    in_role(request, "reviewer", "coordinator", "auditor")
    web = context_of(request)
    return web.render(request, "linkage_rules.html", rules=household_rules_of(web.home))
