"""Who may read what: the hub's files are its account's, a body's inbox and outbox its group's.

The hub's processes run under the umask 077, and what bodies must reach gets its mode set
explicitly, whatever the umask (so these tests create things under a loose umask: the modes must
not come from it). `kim-hub init` makes and puts right the folders of the model, a delivery the
hub takes in becomes 0600 however its sender left it, receipts and summaries are 0640 in the
body's group, and `kim-hub sources check` names every deviation with path and expected mode.
The end-to-end proof with a second OS account is tests/e2e/test_file_modes.py.
"""

from __future__ import annotations

import grp
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kim_hub.cli.main import main
from kim_hub.connectors.drop_folder import NOT_A_REGULAR_FILE, NOT_READABLE, DropFolder
from kim_hub.connectors.outbox import OutboxSink
from kim_hub.connectors.receipts import Receipt, write_receipt
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.pipeline.home_access import HOME_SCOPE, body_group, check_access, ensure_source
from kim_hub.pipeline.setup import initialise
from kim_hub.runtime.file_modes import make_folder, use_private_umask
from tests.support import settle

LOOSE = 0o022  # a common default umask: group and others may read what is created


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(autouse=True)
def _loose_umask() -> Iterator[None]:
    """Every test starts under a loose umask and leaves the process's own as it found it."""
    with umask(LOOSE):
        yield


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def new_home(tmp_path: Path, **sources: SourceConfig) -> HubHome:
    """A home initialised in this process (under the loose umask), with the given sources."""
    home = HubHome(tmp_path / "home")
    home.path.mkdir()
    home.save_config(HubConfig(sources=sources or {"caritas": SourceConfig(), "awo": SourceConfig()}))
    initialise(home)
    return home


def other_group() -> grp.struct_group:
    """A group of this system that is not the process's own primary group."""
    return next(g for g in grp.getgrall() if g.gr_gid != os.getegid())


def under(home: HubHome, deviations: list) -> list:  # type: ignore[type-arg]
    """Deviations inside the home (the folders above a test's home are pytest's)."""
    return [d for d in deviations if d.path == home.path or home.path in d.path.parents]


# --- the process ---------------------------------------------------------------------------------------


def test_the_private_umask_adds_077_and_keeps_what_an_operator_set_stricter() -> None:
    with umask(0o022):
        assert use_private_umask() == 0o022
        assert os.umask(0o022) == 0o077
    with umask(0o227):
        use_private_umask()
        assert os.umask(0o227) == 0o277


def test_every_command_runs_under_the_private_umask(tmp_path: Path) -> None:
    assert main(["init", "--home", str(tmp_path / "home")]) == 0
    assert os.umask(LOOSE) == 0o077
    assert mode(tmp_path / "home" / "keys" / "current") == 0o600  # created by the command itself, under its umask
    assert mode(tmp_path / "home" / "keys" / "scheme-k1") == 0o600


def test_every_flow_sets_the_private_umask_in_whatever_process_runs_it() -> None:
    from kim_hub.flows.sync import _guard_process

    _guard_process()
    assert os.umask(LOOSE) == 0o077


def test_a_folder_is_made_with_exactly_its_mode_and_one_that_is_there_is_left_alone(tmp_path: Path) -> None:
    assert make_folder(tmp_path / "inbox", 0o2770)
    assert mode(tmp_path / "inbox") == 0o2770
    os.chmod(tmp_path / "inbox", 0o755)
    assert not make_folder(tmp_path / "inbox", 0o2770)
    assert mode(tmp_path / "inbox") == 0o755


# --- the home ------------------------------------------------------------------------------------------


def test_init_makes_every_folder_as_the_model_says_whatever_the_umask(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    root = home.path
    assert {name: mode(root / name) for name in ("", "inbox", "outbox")} == dict.fromkeys(("", "inbox", "outbox"), 0o711)
    private = ("var", "reports", "archive", "failed", "processing", "keys")
    assert {name: mode(root / name) for name in private} == dict.fromkeys(private, 0o700)
    for body in ("caritas", "awo"):
        assert mode(root / "inbox" / body) == 0o2770
        for folder in ("", "receipts", "summaries"):
            assert mode(root / "outbox" / body / folder) == 0o2750
    assert mode(root / "hub.toml") == 0o600
    assert mode(root / "var" / "hub.db") == 0o600  # made before SQLite does: its -wal and -shm take its mode


def test_init_puts_an_older_home_right(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    root = home.path
    (root / "archive" / "caritas").mkdir()
    (root / "archive" / "caritas" / "old.csv").write_text("a delivery")
    (root / "reports" / "report.html").write_text("a report")
    (root / "codes").mkdir(mode=0o755)  # the operator's district list
    (root / "codes" / "districts.csv").write_text("code,label,aliases\n")
    for path, loose in [
        (root, 0o755),
        (root / "inbox" / "caritas", 0o755),
        (root / "outbox" / "caritas" / "receipts", 0o700),
        (root / "var" / "hub.db", 0o644),
        (root / "hub.toml", 0o644),
        (root / "archive" / "caritas", 0o755),
        (root / "archive" / "caritas" / "old.csv", 0o644),
        (root / "reports" / "report.html", 0o644),
        (root / "codes", 0o755),
        (root / "codes" / "districts.csv", 0o644),
    ]:
        os.chmod(path, loose)
    assert len([d for d in under(home, check_access(home, home.load_config())) if "does not exist" not in d.problem]) == 10

    initialise(home)
    assert mode(root) == 0o711
    assert mode(root / "inbox" / "caritas") == 0o2770
    assert mode(root / "outbox" / "caritas" / "receipts") == 0o2750
    assert mode(root / "archive" / "caritas") == mode(root / "codes") == 0o700
    for path in ("var/hub.db", "hub.toml", "archive/caritas/old.csv", "reports/report.html", "codes/districts.csv"):
        assert mode(root / path) == 0o600, path
    assert [d for d in under(home, check_access(home, home.load_config())) if "does not exist" not in d.problem] == []


def test_a_shared_folder_named_as_the_home_is_never_changed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    home = HubHome(shared)
    initialise(home)
    assert mode(shared) == 0o1777


def test_a_missing_group_falls_back_to_the_hubs_own_and_sources_check_says_so(tmp_path: Path) -> None:
    home = new_home(tmp_path, caritas=SourceConfig(group="kim-no-such-group-xq"))
    group = body_group("caritas", home.load_config().sources["caritas"])
    assert (group.exists, group.gid) == (False, os.getegid())
    assert os.stat(home.inbox("caritas")).st_gid == os.getegid()
    [deviation] = [d for d in check_access(home, home.load_config()) if d.scope == "caritas"]
    assert "kim-no-such-group-xq does not exist" in deviation.problem
    assert deviation.fix.startswith("groupadd kim-no-such-group-xq") and deviation.fix.endswith("kim-hub init")


def test_the_default_group_is_kim_and_the_source_name() -> None:
    assert body_group("caritas", SourceConfig()).name == "kim-caritas"
    assert body_group("caritas", SourceConfig(group="traeger-caritas")).name == "traeger-caritas"


def test_a_bodys_folders_and_files_get_its_group(tmp_path: Path) -> None:
    """Root (as CI runs) can give folders to any group; another account only to groups it is in,
    and then `sources check` says the hub's account must join the group."""
    other = other_group()
    home = new_home(tmp_path, caritas=SourceConfig(group=other.gr_name))
    group = body_group("caritas", home.load_config().sources["caritas"])
    if os.geteuid() == 0 or other.gr_gid in os.getgroups():
        receipts = home.outbox("caritas", "receipts")
        assert {os.stat(p).st_gid for p in (home.inbox("caritas"), receipts.parent, receipts)} == {other.gr_gid}
        write_receipt(receipts, Receipt("caritas", "c.csv", "", "done", "2026-11-24T00:00:00+00:00"))
        assert {os.stat(p).st_gid for p in receipts.iterdir()} == {other.gr_gid}
        assert [d for d in check_access(home, home.load_config()) if d.scope == "caritas"] == []
    else:
        assert not group.hub_member
        problems = [d.problem for d in check_access(home, home.load_config()) if d.scope == "caritas"]
        assert any("is not in group" in p for p in problems)


def test_a_run_makes_a_missing_body_folder_with_its_mode_but_leaves_one_that_is_there(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    config = home.load_config()
    config.sources["diakonie"] = SourceConfig()  # added to hub.toml by hand
    os.chmod(home.inbox("caritas"), 0o750)  # the operator's choice: init's to change, not a run's
    with umask(0o077):
        ensure_source(home, config, "diakonie")
        ensure_source(home, config, "caritas")
    assert mode(home.inbox("diakonie")) == 0o2770
    assert mode(home.outbox("diakonie", "summaries")) == 0o2750
    assert mode(home.inbox("caritas")) == 0o750


# --- what the hub writes for a body, and what it takes in ----------------------------------------------


def test_receipts_are_readable_by_the_bodys_group_only(tmp_path: Path) -> None:
    folder = tmp_path / "outbox" / "caritas" / "receipts"
    folder.parent.mkdir(parents=True)
    with umask(0o077):  # as under every command: the modes must not come from the umask
        written = write_receipt(folder, Receipt("caritas", "c.csv", "", "done", "2026-11-24T00:00:00+00:00"))
    assert mode(folder) == 0o2750
    assert {p.name: mode(p) for p in folder.iterdir()} == {written.name: 0o640, "c.csv.receipt.txt": 0o640}
    assert json.loads(written.read_text(encoding="utf-8"))["status"] == "done"


def test_summaries_are_readable_by_the_bodys_group_only(tmp_path: Path) -> None:
    folder = tmp_path / "outbox" / "awo" / "summaries"
    document = {"kind": "summary", "record_id": "AWO-1", "residence_status": "AE_25_2_GFK"}
    with umask(0o077):
        assert OutboxSink(folder, root=tmp_path / "outbox", body="awo").push([document]) == 1
    assert mode(folder.parent) == mode(folder) == 0o2750
    files = {p.name: mode(p) for p in folder.iterdir()}
    assert len(files) == 2 and set(files.values()) == {0o640}


def drop_folder(tmp_path: Path) -> tuple[DropFolder, Path]:
    folder = DropFolder.under(tmp_path, "caritas")
    folder.inbox.mkdir(parents=True)
    delivery = folder.inbox / "c.csv"
    delivery.write_text("a delivery\n")
    os.chmod(delivery, 0o644)  # as its sender left it
    return folder, settle(delivery)


@pytest.mark.parametrize("failed", [False, True], ids=["archive", "failed"])
def test_a_delivery_is_the_hubs_alone_from_the_claim_on(tmp_path: Path, failed: bool) -> None:
    folder, delivery = drop_folder(tmp_path)
    with folder.claimed(delivery) as claim:
        assert claim is not None and claim.refused is None
        assert mode(claim.path) == 0o600
        assert mode(folder.processing) == 0o700
        moved = folder.finish(claim.path, failed=failed)
    assert moved.parent == (folder.failed if failed else folder.archive)
    assert (mode(moved), mode(moved.parent), moved.read_text()) == (0o600, 0o700, "a delivery\n")


def test_a_delivery_the_hub_may_not_chmod_is_replaced_by_a_private_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another account's file (the hub not being root): chmod is refused, so the hub keeps a copy of its own."""
    folder, delivery = drop_folder(tmp_path)
    chmod = os.chmod

    def not_the_owner(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)).parent == folder.processing:
            raise PermissionError(1, "Operation not permitted")
        chmod(path, *args, **kwargs)  # type: ignore[arg-type]

    def never(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", not_the_owner)
    monkeypatch.setattr(os, "fchmod", never)
    with folder.claimed(delivery) as claim:
        assert claim is not None
        claimed = claim.path
        sender_inode = os.stat(claimed).st_ino
        moved = folder.finish(claimed, failed=True)
    assert not claimed.exists()
    assert os.stat(moved).st_ino != sender_inode
    assert (mode(moved), moved.read_text()) == (0o600, "a delivery\n")
    assert [p.name for p in folder.failed.iterdir()] == ["c.csv"]  # no temporary file left beside it


def test_a_second_hard_link_is_moved_as_it_is_and_the_file_it_shares_keeps_its_mode(tmp_path: Path) -> None:
    folder, delivery = drop_folder(tmp_path)
    elsewhere = tmp_path / "another-bodys-file.csv"
    os.link(delivery, elsewhere)
    with folder.claimed(delivery) as claim:
        assert claim is not None and claim.refused == NOT_A_REGULAR_FILE
        folder.finish(claim.path, failed=True)
    assert mode(elsewhere) == 0o644


def test_a_delivery_the_hub_cannot_read_is_refused_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, delivery = drop_folder(tmp_path)
    opener = os.open

    def closed_to_the_hub(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(str(path)).parent == folder.processing:
            raise PermissionError(13, "Permission denied")
        return opener(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", closed_to_the_hub)
    with folder.claimed(delivery) as claim:
        assert claim is not None and claim.refused == NOT_READABLE


# --- sources check -------------------------------------------------------------------------------------


def test_sources_check_names_each_deviation_with_path_and_expected_mode(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    root = home.path
    receipt = home.outbox("caritas", "receipts") / "c.csv.receipt.json"
    receipt.write_text("{}")
    os.chmod(receipt, 0o600)  # the body could not read it
    (root / "var" / "hub.db-wal").write_text("")
    os.chmod(root / "var" / "hub.db-wal", 0o644)
    os.chmod(root, 0o755)
    os.chmod(root / "hub.toml", 0o644)
    os.chmod(home.inbox("awo"), 0o777)
    summaries = home.outbox("awo", "summaries")
    summaries.rmdir()
    summaries.symlink_to(home.outbox("caritas", "summaries"))

    found = {(d.scope, d.path.relative_to(root).as_posix()): d for d in under(home, check_access(home, home.load_config()))}
    found = {key: d for key, d in found.items() if "does not exist" not in d.problem}
    assert set(found) == {
        (HOME_SCOPE, "."),
        (HOME_SCOPE, "hub.toml"),
        (HOME_SCOPE, "var"),
        ("awo", "inbox/awo"),
        ("awo", "outbox/awo/summaries"),
        ("caritas", "outbox/caritas/receipts"),
    }
    assert found[HOME_SCOPE, "."].problem == "mode 0755, expected 0711"
    assert found[HOME_SCOPE, "."].fix == f"chmod 0711 {root}"
    assert found[HOME_SCOPE, "hub.toml"].problem == "mode 0644, expected 0600"
    assert found[HOME_SCOPE, "var"].problem.startswith("1 entry open to group or others")
    assert found["awo", "inbox/awo"].problem == "mode 0777, expected 2770"
    assert found["awo", "outbox/awo/summaries"].problem == "a symbolic link; expected a folder"
    assert found["caritas", "outbox/caritas/receipts"].problem.startswith("1 file not 0640 in group")


def test_sources_check_warns_on_the_command_line_and_a_fresh_home_has_nothing_to_warn_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = new_home(tmp_path)
    assert main(["sources", "check", "--home", str(home.path)]) == 0
    printed = capsys.readouterr().out
    warnings = [line for line in printed.splitlines() if line.startswith("warn") and str(home.path) in line]
    assert all("does not exist" in line for line in warnings), warnings

    os.chmod(home.config_file, 0o644)
    assert main(["sources", "check", "--home", str(home.path)]) == 0  # a warning, not a failed check
    printed = capsys.readouterr().out
    assert f"warn home         modes and groups       {home.config_file}: mode 0644, expected 0600; fix: chmod 600" in printed


def test_sources_add_records_the_group_and_makes_the_folders(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    assert main(["sources", "add", "malteser", "--group", "traeger-malteser", "--home", str(home.path)]) == 0
    assert home.load_config().sources["malteser"].group == "traeger-malteser"
    assert mode(home.inbox("malteser")) == 0o2770
    assert mode(home.outbox("malteser", "receipts")) == 0o2750
    assert main(["sources", "add", "johanniter", "--group", "no good", "--home", str(home.path)]) == 2
    assert "johanniter" not in home.load_config().sources
