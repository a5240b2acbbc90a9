"""`kim-hub tokens` and `kim-hub api-openapi`: the providers' API tokens, and the API's document.

A token is printed once, when it is issued or rotated, and never again: the hub keeps only its
hash (``pipeline.api_tokens``). Hand it to the body's integrator through a channel fit for a
password; `tokens list` shows id, body, scopes and times, never a token.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from kim_hub.cli.commands import EXIT_OK, CommandGroup, home_of


def register(commands: CommandGroup) -> None:
    tokens = commands.group(
        "tokens",
        "The providers' API tokens: issue, list, revoke, rotate (the token is shown once).",
        "kim-hub tokens issue --body caritas --scope deliver,receipts --expires 90d --home /srv/kim-hub",
        "kim-hub tokens list --home /srv/kim-hub",
    )
    issue = tokens.command(
        "issue",
        cmd_tokens_issue,
        "Issue a token for a body with the operations it may call; prints it once.",
        "kim-hub tokens issue --body caritas --scope deliver,receipts --expires 90d --home /srv/kim-hub",
    )
    issue.add_argument("--body", required=True, help="the body (source name) the token acts for")
    issue.add_argument("--scope", required=True, help="deliver, receipts and/or collect, separated by commas")
    issue.add_argument("--expires", default="90d", help="lifetime: days (90d) or hours (12h); default 90d, at most 730d")
    tokens.command(
        "list",
        cmd_tokens_list,
        "List the tokens: id, body, scopes, state, times (never a token).",
        "kim-hub tokens list --home /srv/kim-hub",
    )
    revoke = tokens.command(
        "revoke", cmd_tokens_revoke, "Revoke a token: it answers 401 from now on.", "kim-hub tokens revoke 3 --home /srv/kim-hub"
    )
    revoke.add_argument("id", type=int, help="the token's id (tokens list)")
    rotate = tokens.command(
        "rotate",
        cmd_tokens_rotate,
        "Issue a new token in place of one; the old one expires after the overlap.",
        "kim-hub tokens rotate 3 --overlap 7d --home /srv/kim-hub",
    )
    rotate.add_argument("id", type=int, help="the token's id (tokens list)")
    rotate.add_argument("--overlap", default="7d", help="how long the old token still works: 7d, 12h (default 7d)")
    commands.command(
        "api-openapi",
        cmd_api_openapi,
        "Print the providers' API's OpenAPI document (as checked in: docs/hub-api.openapi.json).",
        "kim-hub api-openapi > docs/hub-api.openapi.json",
        home=False,
    )


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def cmd_tokens_issue(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.api_tokens import duration, issue_token

    token, info = issue_token(home_of(args), args.body, args.scope.split(","), duration(args.expires, "--expires"))
    print(token)
    print(f"token {info.id} for {info.body} ({','.join(info.scopes)}) expires {_when(info.expires_at)}", file=sys.stderr)
    print("the token is shown only now: the hub keeps its hash", file=sys.stderr)
    return EXIT_OK


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.api_tokens import list_tokens

    now = dt.datetime.now(dt.UTC)
    for info in list_tokens(home_of(args)):
        scopes = ",".join(info.scopes)
        print(
            f"{info.id}\t{info.body}\t{scopes}\t{info.state(now)}\tcreated={_when(info.created_at)}\texpires={_when(info.expires_at)}"
        )
    return EXIT_OK


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.api_tokens import revoke_token

    info = revoke_token(home_of(args), args.id)
    print(f"token {info.id} of {info.body} revoked")
    return EXIT_OK


def cmd_tokens_rotate(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.api_tokens import duration, rotate_token

    old_id = args.id
    token, info = rotate_token(home_of(args), old_id, duration(args.overlap, "--overlap"))
    print(token)
    print(f"token {info.id} for {info.body} replaces token {old_id}, which ends after {args.overlap}", file=sys.stderr)
    return EXIT_OK


def cmd_api_openapi(args: argparse.Namespace) -> int:
    from kim_hub.web.api import openapi_text

    sys.stdout.write(openapi_text())
    return EXIT_OK
