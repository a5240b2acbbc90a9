"""The command line behaves as a Unix tool: quiet when its reader stops early, an example in every help."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kim_hub.cli.main import build_parser
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.ingest import ingest_source
from kim_hub.pipeline.setup import encoding_keys, initialise
from kim_hub.synth import generate


def _kim_hub() -> list[str]:
    script = Path(sys.executable).parent / "kim-hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kim_hub.cli"]


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command and command group of the parser, with its path (``("review", "decide")``)."""
    found = []
    for action in parser._actions:  # argparse offers no public walk over subcommands
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found += _commands(sub, (*path, name))
    return found


def test_every_command_shows_an_example_in_its_help() -> None:
    commands = _commands(build_parser())
    assert len(commands) >= 25
    missing = [" ".join(path) for path, parser in commands if "example" not in parser.format_help()]
    assert not missing, f"no example in the help of: {missing}"
    assert "example:" in build_parser().format_help()


@pytest.fixture(scope="module")
def home_with_many_records(tmp_path_factory: pytest.TempPathFactory) -> HubHome:
    """A home whose `kim-hub links` output is several times a pipe's buffer (64 KiB)."""
    root = tmp_path_factory.mktemp("manners")
    generate(root / "drops", 1500, seed=3)
    home = HubHome(root / "home")
    config = initialise(home)
    accepted = 0
    with open_sessions(home, config) as sessions:
        for source_inbox in (root / "drops" / "inbox").iterdir():
            shutil.copytree(source_inbox, home.inbox(source_inbox.name), dirs_exist_ok=True)
            config.sources[source_inbox.name].settle_seconds = 0
            accepted += ingest_source(home, config, source_inbox.name, encoding_keys(home, config), sessions).records_accepted
    assert accepted > 3000
    return home


def test_a_reader_that_stops_early_ends_the_command_quietly(home_with_many_records: HubHome) -> None:
    """`kim-hub links | head -1`: the pipe closes after one line; no traceback, exit 0."""
    links = subprocess.Popen(
        [*_kim_hub(), "links", "--home", str(home_with_many_records.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert links.stdout is not None and links.stderr is not None
    assert links.stdout.readline().startswith(b"source,record_id,person_id")
    links.stdout.close()  # the reader goes away, as `head` does
    errors = links.stderr.read().decode()
    assert links.wait(timeout=120) == 0
    assert errors == "", errors
