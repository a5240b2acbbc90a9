"""Very large deliveries (issue #8): a 1 GB file in every kind of inbox is refused by size with a
receipt, without being read into memory, and the good file next to it still lands.

The 1 GB files are sparse (a real header, then a hole), so writing them costs nothing; the hub
must refuse them from their size alone. Peak memory is measured in a fresh subprocess from the
kernel's high-water mark of its own memory (VmHWM). Not getrusage: its ru_maxrss survives exec, so
a child of a large pytest process reports the parent's peak (CI once saw 404 MB that way).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e

GIB = 1024**3
GROWTH_LIMIT_MB = 256
"""How far one ingest of the 1 GiB files may raise the process's peak RSS above what it had before.

Reading one of them whole would add 1,024 MB; streaming them needs a few MB. The limit is a growth,
not an absolute figure, because what the interpreter and its libraries take before the first file
differs between machines and releases.
"""

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from kim_hub.pipeline.setup import initialise
    from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source
    from kim_hub.pipeline.ingest import ingest_source
    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.pipeline.database import auditor_for, keyring_for
    from kim_hub.hub_db.keystore import load_keys
    from tests.reliability.hostile_corpus import GOOD_CSV, HEADER

    home = HubHome(Path(sys.argv[1]))
    home.path.mkdir(parents=True)
    home.save_config(HubConfig(sources={n: default_source(n) for n in DEFAULT_SOURCES}))
    config = initialise(home)
    sessions = session_factory(make_engine(home.database_url(config)), auditor_for(home, config), keyring_for(home, config))  # ingests write the audit log
    keys = load_keys(home.key_dir(config))
    size = int(sys.argv[2])
    def high_water_mb():  # this process's peak RSS; unlike ru_maxrss it starts afresh at exec
        line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    before_mb = high_water_mb()
    heads = {"caritas": (HEADER + "\\n").encode(), "jobcenter": "Kundennummer;BG-Nummer;Nachname;Vorname\\r\\n".encode(),
             "abh": b'<?xml version="1.0"?><abhMeldungen xmlns="urn:kim-hub:abh:1">', "stadt": b"PK\\x03\\x04"}
    names = {"caritas": "huge.csv", "jobcenter": "JC_KIM_20261130.csv", "abh": "huge.xml", "stadt": "huge.xlsx"}
    for source, head in heads.items():
        path = home.inbox(source) / names[source]
        with path.open("wb") as handle:
            handle.write(head)
            handle.truncate(size)  # sparse: a hole after the header
        good = home.inbox(source) / "good.csv"
        good.write_bytes(GOOD_CSV)
        for p in (path, good):
            os.utime(p, (1_600_000_000, 1_600_000_000))
    started = time.perf_counter()
    outcomes = {s: ingest_source(home, config, s, keys, sessions).as_dict() for s in heads}
    peak_mb = high_water_mb()
    print(json.dumps({"peak_mb": peak_mb, "before_mb": before_mb, "seconds": time.perf_counter() - started, "outcomes": outcomes}))
    """
)


def test_a_1_gb_file_is_refused_by_size_without_blowing_memory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home), str(GIB)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    growth_mb = result["peak_mb"] - result["before_mb"]
    print(f"1 GiB deliveries: peak RSS {result['peak_mb']:.0f} MB, +{growth_mb:.0f} MB in the ingest, {result['seconds']:.1f} s")
    assert growth_mb < GROWTH_LIMIT_MB
    for source, outcome in result["outcomes"].items():
        assert outcome["files_rejected"] == 1 and outcome["files_ingested"] == 1, (source, outcome)
        receipt_dir = home / "outbox" / source / "receipts"
        refused = [
            json.loads(p.read_text())
            for p in receipt_dir.glob("*.receipt.json")
            if json.loads(p.read_text())["status"] == "rejected"
        ]
        assert len(refused) == 1 and "limit" in refused[0]["rejections"][0]["reason"]
        assert not list((home / "processing" / source).glob("*"))
