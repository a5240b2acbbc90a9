"""`kim-hub links | review | erase | keys`: the master index as a coordinator and an operator see it.

Record ids and pseudonyms only: the index holds no clear identity, so nothing here can show one.
`links` and `review list` show person-level data: each is a read in the audit log, with
``--purpose`` and ``--case-ref``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kim_hub.cli.commands import (
    EXIT_OK,
    EXIT_PART_FAILED,
    EXIT_REJECTED,
    EXIT_USAGE,
    CommandGroup,
    access_of,
    add_access_options,
    home_of,
    moment_of,
)
from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.home import check_source_name

if TYPE_CHECKING:
    from kim_hub.pipeline.review import HouseholdRules, LinkOutcome, Pending


def register(commands: CommandGroup) -> None:
    links = commands.command(
        "links",
        cmd_links,
        "Print every ingested record with its person pseudonym.",
        "kim-hub links --home /srv/kim-hub > links.csv",
        "kim-hub links --format json --out links.json --home /srv/kim-hub",
    )
    links.add_argument("--format", choices=("csv", "json"), default="csv")
    links.add_argument("--out", help="write to this file instead of standard output")
    add_access_options(links, "links.export")

    review = commands.group(
        "review",
        "The review queue: uncertain pairs, with evidence but no names.",
        "kim-hub review list --home /srv/kim-hub",
        "kim-hub review decide 17 same --home /srv/kim-hub",
    )
    listing = review.command(
        "list",
        cmd_review_list,
        "Show review items with per-field evidence and score.",
        "kim-hub review list --limit 10 --home /srv/kim-hub",
    )
    listing.add_argument(
        "--status",
        choices=("open", "same", "different", "pending", "all"),
        default="open",
        help="pending: items whose decision waits for a second reviewer",
    )
    listing.add_argument("--limit", type=int, default=50, help="show at most this many (0 = all)")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument("--older-than", type=int, metavar="DAYS", help="only items waiting longer than this many days")
    listing.add_argument("--assigned-to", metavar="NAME", help="only items assigned to this reviewer account")
    listing.add_argument("--unassigned", action="store_true", help="only items nobody has taken")
    listing.add_argument(
        "--postponed", action="store_true", help="only items set aside now (without it, open items set aside are not listed)"
    )
    add_access_options(listing, "review.list")
    decide = review.command(
        "decide",
        cmd_review_decide,
        "Decide a review item: the clustering respects it from then on.",
        "kim-hub review decide 17 different --home /srv/kim-hub",
    )
    decide.add_argument("item", type=int, help="review item id (from 'review list')")
    decide.add_argument("decision", choices=("same", "different"))
    decide.add_argument(
        "--reason",
        choices=("fields_agree", "fields_differ", "source_confirmed", "case_file_checked", "family_member"),
        help="why: a code from a closed list (hub_db.review.REASONS), stored with the decision",
    )
    assign = review.command(
        "assign",
        cmd_review_assign,
        "Assign an open item to a reviewer account (also one another reviewer has taken).",
        "kim-hub review assign 17 --to anna --home /srv/kim-hub",
    )
    assign.add_argument("item", type=int, help="review item id (from 'review list')")
    assign.add_argument("--to", required=True, metavar="NAME", help="an active reviewer account (kim-hub users list)")
    release = review.command(
        "release", cmd_review_release, "Free an item whoever has it.", "kim-hub review release 17 --home /srv/kim-hub"
    )
    release.add_argument("item", type=int)
    postpone = review.command(
        "postpone",
        cmd_review_postpone,
        "Set an open item aside until a day (back in the queue then) or, without --until, until resumed.",
        "kim-hub review postpone 17 --until 2027-01-15 --home /srv/kim-hub",
    )
    postpone.add_argument("item", type=int)
    postpone.add_argument("--until", help="the day it returns to the queue (ISO date; UTC)")
    resume = review.command(
        "resume",
        cmd_review_resume,
        "Take a postponed item back into the queue now.",
        "kim-hub review resume 17 --home /srv/kim-hub",
    )
    resume.add_argument("item", type=int)
    undo = review.command(
        "undo",
        cmd_review_undo,
        "Take a decision back: the pair is re-linked under the model alone.",
        "kim-hub review undo 17 --home /srv/kim-hub",
    )
    undo.add_argument("item", type=int, help="review item id")
    for name, handler, text in (
        ("confirm", cmd_review_confirm, "Confirm a decision that waits for a second reviewer: it is applied."),
        ("reject", cmd_review_reject, "Reject a decision that waits for a second reviewer: nothing is applied."),
    ):
        waiting = review.command(name, handler, text, f"kim-hub review {name} 17 --home /srv/kim-hub")
        waiting.add_argument("item", type=int, help="review item id (from 'review list --status pending')")
    preview = review.command(
        "preview",
        cmd_review_preview,
        "Show what deciding an item would send: correction and withdrawal notices, new summaries.",
        "kim-hub review preview 17 --home /srv/kim-hub",
    )
    preview.add_argument("item", type=int, help="review item id")
    add_access_options(preview, "review.preview")
    review.command(
        "rules",
        cmd_review_rules,
        "Which patterns of household evidence alone link automatically here, and the counts that decided it.",
        "kim-hub review rules --home /srv/kim-hub",
    )

    erase = commands.command(
        "erase",
        cmd_erase,
        "Erase one record everywhere in the hub (and its person with its last record).",
        "kim-hub erase --source caritas --record-id C-4711 --home /srv/kim-hub",
    )
    erase.add_argument("--source", required=True)
    erase.add_argument(
        "--record-id",
        required=True,
        help="the record id as the source knows it, or as `kim-hub links` shows it (an encrypted token)",
    )

    keys = commands.group("keys", "The secret key: rotate it.", "kim-hub keys rotate --home /srv/kim-hub")
    keys.command(
        "rotate",
        cmd_keys_rotate,
        "New key version; every encoding re-made from the kept deliveries; old key destroyed.",
        "kim-hub keys rotate --home /srv/kim-hub",
    )


def cmd_links(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.links import link_rows
    from kim_hub.pipeline.private_files import check_target, replacing

    access = access_of(args)
    if not args.out:
        _write_links(sys.stdout, link_rows(home_of(args), access), args.format)
        return EXIT_OK
    check_target(Path(args.out), "--out")  # refused before the index is read
    rows = link_rows(home_of(args), access)
    with replacing(Path(args.out), "--out") as out:  # a reader never sees half an export
        _write_links(out, rows, args.format)
    return EXIT_OK


def _write_links(out: TextIO, rows: Sequence[tuple[Any, ...]], form: str) -> None:
    """The links export in its format (JSON: one object per record; CSV: header first)."""
    from kim_hub.pipeline.links import LINKS_HEADER, write_links_csv

    if form == "json":
        json.dump([dict(zip(LINKS_HEADER, row, strict=True)) for row in rows], out, indent=1)
        out.write("\n")
    else:
        write_links_csv(out, rows)


def cmd_review_list(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import review_items

    home = home_of(args)
    items = review_items(home, args.status, args.limit or None, access_of(args), wanted=_queue_filter(home, args))
    if args.format == "json":
        print(json.dumps([item.__dict__ for item in items], indent=1, default=str))
        return EXIT_OK
    if not items:
        print(f"no {args.status} review items")
    for item in items:
        waits = f"  waits for a second reviewer: {item.pending.decision}" if item.pending else ""
        assigned = f"  assigned to {item.assigned_to.split(':', 1)[1]}" if item.assigned_to else ""
        aside = (
            f"  postponed until {item.postponed_until:%Y-%m-%d}"
            if item.postponed_until
            else "  postponed"
            if item.postponed_at
            else ""
        )
        print(f"#{item.id}  p={item.score:.3f}  {item.status}{assigned}{aside}{waits}")
        for label, (source, record_id, pseudonym) in (("A", item.a), ("B", item.b)):
            print(f"   {label}: {source}/{record_id}  person {pseudonym or '-'}")
        for field, words in item.evidence.items():
            print(f"      {field.replace('_', ' '):13} {words}")
    return EXIT_OK


def _queue_filter(home: Any, args: argparse.Namespace) -> Any:
    """The worklist's filters of `review list`; none given: the listing as before, postponed items
    of the open queue left out (as the web application's queue leaves them out)."""
    from kim_hub.pipeline.review import QueueFilter
    from kim_hub.pipeline.review_worklist import reviewer_actor

    if args.older_than is not None and args.older_than < 0:
        raise ConfigError("--older-than is a number of days, 0 or more")
    postponed = True if args.postponed else (False if args.status == "open" else None)
    return QueueFilter(
        older_than_days=args.older_than,
        assigned_to=reviewer_actor(home, args.assigned_to) if args.assigned_to else None,
        unassigned=args.unassigned,
        postponed=postponed,
    )


def cmd_review_assign(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review_worklist import assign_review, reviewer_actor

    home = home_of(args)
    assign_review(home, args.item, reviewer_actor(home, args.to), take_over=True)
    print(f"review item {args.item}: assigned to {args.to}")
    return EXIT_OK


def cmd_review_release(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review_worklist import release_review

    release_review(home_of(args), args.item, None)
    print(f"review item {args.item}: released")
    return EXIT_OK


def cmd_review_postpone(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review_worklist import postpone_review

    until = moment_of(args.until, "--until")
    postpone_review(home_of(args), args.item, until)
    print(f"review item {args.item}: postponed until {f'{until:%Y-%m-%d}' if until else 'resumed'}")
    return EXIT_OK


def cmd_review_resume(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review_worklist import resume_review

    resume_review(home_of(args), args.item)
    print(f"review item {args.item}: back in the queue")
    return EXIT_OK


def cmd_review_decide(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import decide_review

    _print_decided(args.item, args.decision, decide_review(home_of(args), args.item, args.decision, args.reason))
    return EXIT_OK


def cmd_review_undo(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import undo_review

    _print_decided(args.item, "undone", undo_review(home_of(args), args.item))
    return EXIT_OK


def cmd_review_confirm(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import confirm_review

    outcome = confirm_review(home_of(args), args.item)
    print(f"review item {args.item}: confirmed and applied; {outcome.records_linked} records re-linked")
    return EXIT_OK


def cmd_review_reject(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import reject_review

    dropped = reject_review(home_of(args), args.item)
    print(f"review item {args.item}: the waiting decision ({dropped.decision}) was rejected; nothing applied")
    return EXIT_OK


def _print_decided(item: int, what: str, outcome: LinkOutcome | Pending) -> None:
    from kim_hub.pipeline.review import Pending

    if isinstance(outcome, Pending):
        print(
            f"review item {item}: {outcome.decision} is pending: it touches a person whose summaries went to another "
            f"body, so another reviewer must confirm it (kim-hub review confirm {item}); nothing applied yet"
        )
    else:
        print(f"review item {item}: {what}; {outcome.records_linked} records re-linked")


def cmd_review_preview(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import preview_review

    found = preview_review(home_of(args), args.item, access_of(args))
    if found is None:
        print(f"no review item {args.item}", file=sys.stderr)
        return EXIT_USAGE
    if not found.four_eyes:
        print(f"review item {args.item} touches nobody whose summaries went out: a decision applies at once")
        return EXIT_OK
    print(f"review item {args.item}: a decision waits for a second reviewer; the next push would send")
    for choice, effects in found.effects.items():
        print(f"  if {choice}:" + ("" if effects else " nothing new"))
        for effect in effects:
            print(f"    {effect.kind:10} to {effect.body:12} person {effect.pseudonym}")
    return EXIT_OK


def cmd_review_rules(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.review import household_rules_of

    for line in household_rules_lines(household_rules_of(home_of(args))):
        print(line)
    return EXIT_OK


def household_rules_lines(rules: HouseholdRules) -> list[str]:
    """The three patterns, each let go (the weight decides) or held for review, with its counts."""
    from kim_hub.linkage.household import SAME_SHARE

    census, decisions, release = rules.census, rules.decisions, rules.release

    def verdict(let_go: bool) -> str:
        return "links when the weight says so" if let_go else "held for review"

    return [
        "Household evidence alone (no given name, identifier or, without a given name, precise birth date agreeing)",
        "links automatically only where this installation's records or reviewers show it is one person",
        f"(one-person share at least {SAME_SHARE}; docs/operations.md)."
        + ("" if rules.census_decides else " The census decides nothing here: [linkage] household_census = false."),
        f"  twins' pattern (one family name and birth date, other given names): {verdict(release.twins)}",
        f"    census: {census.twins_pattern} pattern pairs beside {census.siblings} siblings, share {census.one_person_share:.3f}; "
        f"decisions: {decisions.same} same, {decisions.different} different, share {decisions.one_person_share:.3f}",
        f"  a family name in one household, no given name agreeing: {verdict(release.family_household)}",
        f"    census: {census.siblings} siblings in {census.household_pairs} household pairs, share {census.one_member_share:.3f}",
        f"  both names replaced at one address, the same birth date: {verdict(release.renamed)}",
        f"    census: {census.renamed_same_day} same-day beside {census.renamed_other_day} other-day co-residents, "
        f"share {census.renamed_share:.3f}"
        + ("" if census.rules_out_twins else " (and only where the census lets the twins' pattern go)"),
        "model version "
        + (
            "none of its own yet (the shipped default: the census decides nothing)"
            if rules.model_version is None
            else str(rules.model_version)
        )
        + "; `kim-hub reestimate` counts again",
    ]


def cmd_erase(args: argparse.Namespace) -> int:
    from kim_hub.cli.sync import prefect_flows, push_line, push_part_failed, push_problems
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.erasure import erase

    check_source_name(args.source, "--source")
    home = home_of(args)
    with open_sessions(home) as sessions:
        outcome = erase(home, sessions, args.source, args.record_id)
    if not outcome.records_erased:
        print(f"no record with that id in source {args.source}", file=sys.stderr)  # the id may be a Kundennummer: not echoed
        return EXIT_USAGE
    print(f"erased 1 record; {outcome.persons_erased} person(s) erased with it")
    pushed = prefect_flows(home).push_flow(str(home.path))  # erasure notices to who received its data
    print(push_line(pushed))
    for line in push_problems(pushed):
        print(line, file=sys.stderr)
    return EXIT_PART_FAILED if push_part_failed(pushed) else EXIT_OK


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.rotation import rotate_keys

    home = home_of(args)
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        outcome = rotate_keys(home, config, sessions)
    if outcome.complete:
        print(f"key {outcome.new_key} is current; {outcome.records_rekeyed} records re-keyed; key {outcome.old_key} destroyed")
        if outcome.renamed:
            tokens = sum(len(renamed) for renamed in outcome.renamed.values())
            print(f"{tokens} encrypted record ids re-made; {outcome.outbox_documents_renamed} outbox documents renamed to them")
        return EXIT_OK
    missing = ", ".join(f"{source}: {count}" for source, count in outcome.missing.items())
    print(f"rotation not done, key {outcome.old_key} stays current: records without a kept delivery ({missing})", file=sys.stderr)
    return EXIT_REJECTED
