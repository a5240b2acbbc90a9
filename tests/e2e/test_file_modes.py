"""After `make run` under a loose umask, only the bodies' inboxes and outboxes are open to anyone
but the hub's account, and a body's own account reaches exactly its own.

`kim-hub demo` (what `make run` runs) is started as a real command under the umask 022, with a
sender's delivery of mode 0644 waiting in an inbox, and the home is walked: every entry but the
documented inbox and outbox folders and files must be closed to group and others (the home and
the passages inbox/ and outbox/ are 0711: passable, not listable).

The second part needs a second OS account, so it needs root to create one: two throw-away groups
stand for the bodies caritas and awo (configured in hub.toml as ``group = "…"``) and a throw-away
account in the first plays caritas's account, its commands run through ``setpriv``. CI runs as
root (.ci/run), so it runs there; elsewhere that part alone is skipped, the umask part runs
everywhere. Accounts and groups are removed afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kim_hub.pipeline.home import HubHome
from tests.support import kim_hub_command, settle

pytestmark = pytest.mark.e2e

LOOSE_UMASK = 0o022
DEMO_PERSONS = "40"  # with the demo's seed, 40 persons give both caritas and awo summaries (20 do not)
CLI_TIMEOUT = 300
SENDERS_FILE = "notes-from-caritas.txt"  # no connector reads it: it is rejected whole, into failed/


@dataclass(frozen=True)
class BodyAccount:
    """A throw-away OS account in caritas's group, and a group for awo it is not in."""

    user: str
    caritas_group: str
    awo_group: str


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _root_command(*command: str) -> None:
    result = _run(*command)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"


@pytest.fixture(scope="module")
def body_account() -> Iterator[BodyAccount | None]:
    """Root only: the groups and the account (removed again afterwards); None for anyone else."""
    if os.geteuid() != 0:
        yield None
        return
    tag = f"kimt{secrets.token_hex(3)}"
    account = BodyAccount(user=tag, caritas_group=f"{tag}-caritas", awo_group=f"{tag}-awo")
    try:
        _root_command("groupadd", account.caritas_group)
        _root_command("groupadd", account.awo_group)
        _root_command("useradd", "--no-create-home", "--user-group", "--groups", account.caritas_group, account.user)
        yield account
    finally:
        _run("userdel", account.user)
        for group in (account.user, account.caritas_group, account.awo_group):
            _run("groupdel", group)


def _kim_hub(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The real command, as an operator whose umask is 022 runs it."""
    result = subprocess.run(
        [*kim_hub_command(), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        preexec_fn=lambda: os.umask(LOOSE_UMASK),  # noqa: PLW1509 - the umask must be set in the child
        check=False,
    )
    assert result.returncode in (0, 1), f"kim-hub {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def _as_body(account: BodyAccount, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by sh as the body's account (its own groups, not root's)."""
    return _run("setpriv", f"--reuid={account.user}", f"--regid={account.user}", "--init-groups", "sh", "-c", script)


@pytest.fixture(scope="module")
def demo_home(body_account: BodyAccount | None) -> Iterator[Path]:
    """A home after `kim-hub init` and `kim-hub demo` under the umask 022, with a sender's file in it.

    It lies in a folder of its own, 0711 like the home, as the folders above a real home must be
    passable for the bodies' accounts (pytest's own temporary folders are 0700)."""
    base = Path(tempfile.mkdtemp(prefix="kimhub-modes-"))
    os.chmod(base, 0o711)
    home = base / "home"
    try:
        _kim_hub("init", home=home)
        inbox = home / "inbox" / "caritas"
        if body_account is not None:  # the operator's part: groups in hub.toml, then init again
            hub = HubHome(home)
            config = hub.load_config()
            config.sources["caritas"].group = body_account.caritas_group
            config.sources["awo"].group = body_account.awo_group
            hub.save_config(config)
            _kim_hub("init", home=home)
            delivered = _as_body(body_account, f"umask 022 && echo 'a note' > {inbox / SENDERS_FILE}")
            assert delivered.returncode == 0, delivered.stderr  # caritas's account writes its inbox
        else:
            (inbox / SENDERS_FILE).write_text("a note\n")
            os.chmod(inbox / SENDERS_FILE, 0o644)
        assert stat.S_IMODE((inbox / SENDERS_FILE).stat().st_mode) == 0o644
        settle(inbox / SENDERS_FILE)
        _kim_hub("demo", "--persons", DEMO_PERSONS, home=home)
        yield home
    finally:
        shutil.rmtree(base)


def _documented_mode(relative: Path, is_folder: bool) -> int | None:
    """The mode the model gives an entry bodies may reach; None for every other (private) entry."""
    parts = relative.parts
    if len(parts) <= 1 and (not parts or parts[0] in ("inbox", "outbox")):
        return 0o711  # the home, inbox/, outbox/
    if parts[0] == "inbox" and len(parts) == 2:
        return 0o2770
    if parts[0] == "outbox":
        return 0o2750 if is_folder else 0o640
    return None


def test_nothing_but_the_bodies_folders_is_open_to_other_accounts(demo_home: Path) -> None:
    seen: dict[str, int] = {}
    open_entries = []
    for folder, folders, files in os.walk(demo_home):
        for path in (Path(folder), *(Path(folder) / name for name in (*folders, *files))):
            found = os.lstat(path)
            relative = path.relative_to(demo_home)
            mode = stat.S_IMODE(found.st_mode)
            seen[relative.as_posix()] = mode
            expected = _documented_mode(relative, stat.S_ISDIR(found.st_mode))
            if expected is None and mode & 0o077 or expected is not None and mode != expected:
                open_entries.append(f"{relative} {mode:04o} (expected {expected or 0o600:04o} or stricter)")
    assert open_entries == []
    # the walk saw what matters: config, both databases, Prefect's state, reports, key, deliveries
    for private in ("hub.toml", "var/hub.db", "var/prefect/prefect.db", "reports/report.html", "keys/current"):
        assert seen.get(private) == 0o600, private
    archived = [name for name in seen if name.startswith("archive/caritas/")]
    assert archived and all(seen[name] == 0o600 for name in archived)
    assert seen[f"failed/caritas/{SENDERS_FILE}"] == 0o600  # the sender's 0644 is gone
    assert seen["outbox/caritas/receipts/caritas_export_20260302.csv.receipt.json"] == 0o640
    assert any(name.startswith("outbox/caritas/summaries/summaries-") for name in seen)


def test_sources_check_finds_nothing_but_groups_that_do_not_exist(demo_home: Path, body_account: BodyAccount | None) -> None:
    checked = _kim_hub("sources", "check", home=demo_home)
    warnings = [line for line in checked.stdout.splitlines() if line.startswith("warn")]
    assert all("does not exist" in line for line in warnings), warnings
    if body_account is not None:  # caritas and awo have their groups: nothing to say about them
        assert not [line for line in warnings if line.split()[1] in ("caritas", "awo")], warnings


def test_a_bodys_account_reaches_its_own_folders_and_nothing_else(demo_home: Path, body_account: BodyAccount | None) -> None:
    if body_account is None:
        pytest.skip("needs root to create a second OS account and its groups; CI runs as root (.ci/run)")
    home = demo_home
    receipt = home / "outbox/caritas/receipts/caritas_export_20260302.csv.receipt.json"
    summaries = home / "outbox/caritas/summaries"
    table = next(summaries.glob("summaries-*.csv"))
    may = {
        "write its inbox": f"echo probe > {home}/inbox/caritas/probe.csv.part",
        "list its receipts": f"ls {receipt.parent} | grep -q receipt.json",
        "read its receipt": f"grep -q caritas_export {receipt}",
        "list its summaries": f"ls {summaries} | grep -q summaries-",
        "read its summaries": f"head -1 {table} | grep -q record_id",
    }
    for what, script in may.items():
        result = _as_body(body_account, script)
        assert result.returncode == 0, f"caritas's account could not {what}: {result.stderr}"

    awo_receipt = home / "outbox/awo/receipts/awo_export_20260302.csv.receipt.json"
    must_not = {
        "read awo's receipt": f"cat {awo_receipt}",
        "list awo's outbox": f"ls {home}/outbox/awo",
        "read awo's summaries": f"cat {next((home / 'outbox/awo/summaries').glob('summaries-*.csv'))}",
        "list awo's inbox": f"ls {home}/inbox/awo",
        "write awo's inbox": f"echo probe > {home}/inbox/awo/probe.csv.part",
        "write its own outbox": f"echo probe > {receipt.parent}/planted.json",
        "list the home": f"ls {home}",
        "list the outboxes": f"ls {home}/outbox",
        "read hub.toml": f"cat {home}/hub.toml",
        "list var/": f"ls {home}/var",
        "read the database": f"cat {home}/var/hub.db",
        "read Prefect's database": f"cat {home}/var/prefect/prefect.db",
        "list the archive": f"ls {home}/archive",
        "read its own archived delivery": f"cat {home}/archive/caritas/caritas_export_20260302.csv",
        "read its own rejected file": f"cat {home}/failed/caritas/{SENDERS_FILE}",
        "list the reports": f"ls {home}/reports",
        "read the key": f"cat {home}/keys/hub-k1.key",
    }
    for what, script in must_not.items():
        result = _as_body(body_account, script)
        assert result.returncode != 0, f"caritas's account could {what}"
        assert "Permission denied" in result.stderr, f"{what}: {result.stderr}"
    (home / "inbox/caritas/probe.csv.part").unlink()
