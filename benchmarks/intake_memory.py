"""Intake memory benchmark: peak resident memory of `kim-hub ingest` over one big delivery.

    .venv/bin/python benchmarks/intake_memory.py --format csv --megabytes 256
    .venv/bin/python benchmarks/intake_memory.py --format xlsx --megabytes 50
        [--workers 1] [--repeat 1] [--limit-mb 1024] [--seed 1] [--keep]

What it measures: one synthetic provider export of the given size (the standard provider columns,
made-up values, every row valid) is dropped into the inbox of the default source ``caritas`` of a
fresh home, and ``kim-hub ingest --home DIR`` reads, maps, pseudonymises, stores and links it
(its sync flow then also pushes summaries and writes the report: all part of the figure).
The figure is the peak resident memory of the hub's process tree: the ``kim-hub`` process and
all its descendants (the worker pool's forkserver and workers), their VmRSS summed from /proc
every 0.2 s. Prefect's temporary API server, which the command starts for itself, is a
descendant too but the orchestrator's, not the intake's: it is left out of the tree and reported
on its own. Also reported: the ``kim-hub`` process's ru_maxrss (from ``os.wait4``: the largest
single process among it and the children it reaped, not a sum, and so the Prefect server's on a
run too small for the hub to outgrow it; being exact, it may exceed a sampled tree peak that
missed a short spike of a one-process run), wall time, exit code, and the
file's receipt (``outbox/caritas/receipts/*.receipt.json``), which must show every row accepted,
else the run did not measure what it claims. Summed VmRSS counts pages that forked processes
share once per process, so the tree figure errs high, which is the safe side for a bound.

Why through the CLI: the bound is on what an operator's machine sees when cron runs
``kim-hub ingest``, with the command's own start-up, its Prefect flow, its worker processes and
the link step that follows the intake; a benchmark that called ``pipeline.ingest`` in-process
(as ``scale.py`` does) would miss all of that and share its heap with the generator.

Two peaks are reported: the *intake*'s (from the start until the delivery's receipt is written,
i.e. read, mapped, pseudonymised and stored: the rows are a stream, never held whole) and the
whole command's (the link step of a million new records needs gigabytes of its own: that is the
master index's matter, not the intake's). The bound it checks (the issue's): the intake of a
256 MB CSV delivery stays under 1 GB of memory, and so does a 50 MB XLSX delivery. The script
exits with status 1 when the highest intake peak of the runs exceeds ``--limit-mb`` (default 1024) or when not every row landed, so it can serve
as a check; it is not a unit test (minutes and gigabytes of disk at full size). The ingest's exit
code alone proves nothing: a delivery refused whole (over a size or row limit) exits 0 too. ``--repeat N``
runs N fresh homes on the same file and reports the median. Results go to
``benchmarks/results/intake-memory-<format>-<MB>.json``.

Sizes are MiB (2**20 bytes), as the hub's own limits count them: a CSV is written up to the
target and never over it (``MAX_FILE_BYTES`` refuses a larger file); an XLSX, which cannot be cut
to the byte, is sized from a trial save and aimed a hair below the target for the same reason
(``MAX_XLSX_BYTES``). Every command adds a constant of about 25 s of Prefect start-up and flow
bookkeeping to the wall time (an empty inbox takes that long). ``KIM_HUB_WORKERS`` is set from ``--workers`` (default 1) so runs on
different machines compare.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from openpyxl import Workbook

from kim_hub.hub_db.keystore import DEFAULT_KEY_ID, key_path, set_current, write_scheme
from kim_hub.linkage.keyed import SCHEME
from kim_hub.pipeline.home import HubConfig, HubHome

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "caritas"  # a default source of `kim-hub init` whose provider connector takes .csv and .xlsx
MIB = 2**20
SAMPLE_SECONDS = 0.2
SETTLED_AGO_SECONDS = 3600  # older than any settle time: the drop folder takes the file at once
XLSX_TRIAL_ROWS = 5_000
XLSX_AIM = 0.99  # of the target: an estimate that overshoots would cross the hub's size limit
BENCHMARK_MASTER_KEY = hashlib.sha256(b"kim-hub benchmarks: intake memory, never a production key").digest()

HEADER = (
    "record_id",
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "nationality",
    "birth_place",
    "street",
    "postcode",
    "azr_number",
    "rechtskreis",
    "residence_status",
    "case_status",
    "case_opened",
    "district",
    "goals",
    "updated_at",
)
FAMILY_NAMES = ("Müller", "Yilmaz", "Haddad", "Kowalski", "Popescu", "Schmidt", "Nazari", "Ivanenko", "Tesfaye", "Özdemir")
GIVEN_NAMES = (("Anna", "F"), ("Mehmet", "M"), ("Fatima", "F"), ("Olena", "F"), ("Ahmad", "M"), ("Lukas", "M"), ("Aisha", "F"))
NATIONALITIES = ("SYR", "AFG", "UKR", "TUR", "IRQ", "ERI", "POL", "ROU")
BIRTH_PLACES = ("Aleppo", "Kabul", "Kyiv", "Izmir", "Mossul", "Asmara", "Krakau", "Iasi")
STREETS = ("Hauptstraße", "Kölner Str.", "Birkenweg", "Am Stadtpark", "Düsseldorfer Straße", "Lindenallee")
SUFFIX_SYLLABLES = ("ba", "de", "fi", "ko", "lu", "ma", "ne", "ri", "so", "tu")  # ten different consonants
RECHTSKREISE = (("AsylbLG", "GESTATTUNG"), ("SGB II", "AE_25_2_GFK"))
BIRTH_FIRST, BIRTH_LAST = dt.date(1950, 1, 1), dt.date(2010, 12, 31)
OPENED_FIRST, OPENED_LAST = dt.date(2020, 1, 1), dt.date(2026, 11, 1)
UPDATED_AT = dt.date(2026, 11, 20)


# --- the delivery --------------------------------------------------------------------------


def spelled(number: int, digits: int) -> str:
    """``number`` as a suffix of ``digits`` syllables, one per decimal digit (307 → "kobari").

    A name suffix in digits would not make records differ: the hub's name normaliser drops digits
    ("Müller17" and "Müller4512" are both "mueller"), so with short name lists a million rows would
    be thousands of look-alike persons and the link step, not the intake, would set the figures."""
    return "".join(SUFFIX_SYLLABLES[int(digit)] for digit in f"{number:0{digits}d}")


def synthetic_rows(seed: int) -> Iterator[tuple[str | dt.date, ...]]:
    """Endless valid provider rows, dates as dates (the CSV writes them ISO, the XLSX as date cells).

    Names are a stem from a short list with a spelled numeric suffix (``spelled``): 10,000 family
    names and 700 given names, so records differ also to the linker; no row is a real person."""
    rng = random.Random(seed)
    birth_days = (BIRTH_LAST - BIRTH_FIRST).days
    opened_days = (OPENED_LAST - OPENED_FIRST).days
    number = 0
    while True:
        number += 1
        given, sex = rng.choice(GIVEN_NAMES)
        rechtskreis, status = rng.choice(RECHTSKREISE)
        yield (
            f"P-{number:08d}",
            rng.choice(FAMILY_NAMES) + spelled(rng.randrange(1_000), 3),
            given + spelled(rng.randrange(100), 2),
            BIRTH_FIRST + dt.timedelta(days=rng.randrange(birth_days + 1)),
            sex,
            rng.choice(NATIONALITIES),
            rng.choice(BIRTH_PLACES),
            f"{rng.choice(STREETS)} {rng.randrange(1, 200)}",
            f"{rng.randrange(1_001, 99_999):05d}",
            "",  # no AZR number: providers rarely have one
            rechtskreis,
            status,
            "active",
            OPENED_FIRST + dt.timedelta(days=rng.randrange(opened_days + 1)),
            "Opladen",
            "sprache:active",
            UPDATED_AT,
        )


def _csv_cell(value: str | dt.date) -> str:
    """A CSV field; the generated values hold no comma, quote or line break, so none is quoted."""
    return value.isoformat() if isinstance(value, dt.date) else value


def write_csv(path: Path, target_bytes: int, seed: int) -> int:
    """Write UTF-8 CSV rows up to ``target_bytes`` and never over it; returns the number of rows.

    Streams row by row, so the benchmark's own memory stays small at any size."""
    size, rows = 0, 0
    with path.open("wb") as handle:
        header = (",".join(HEADER) + "\n").encode()
        handle.write(header)
        size += len(header)
        for row in synthetic_rows(seed):
            line = (",".join(_csv_cell(v) for v in row) + "\n").encode()
            if size + len(line) > target_bytes:
                return rows
            handle.write(line)
            size += len(line)
            rows += 1
    return rows


def _save_xlsx(path: Path, rows: int, seed: int) -> None:
    """A write-only workbook (rows go straight to the zip, openpyxl keeps none in memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.append(HEADER)
    for row in itertools.islice(synthetic_rows(seed), rows):
        sheet.append(row)
    workbook.save(path)


def write_xlsx(path: Path, target_bytes: int, seed: int) -> int:
    """Write an XLSX close to ``target_bytes`` (below it): rows per byte from a trial save, then
    one real save; returns the number of rows. A zip cannot be cut at a byte, hence the trial."""
    trial = path.with_name("trial.xlsx")
    _save_xlsx(trial, XLSX_TRIAL_ROWS, seed)
    per_row = trial.stat().st_size / XLSX_TRIAL_ROWS
    trial.unlink()
    rows = max(1, int(target_bytes * XLSX_AIM / per_row))
    _save_xlsx(path, rows, seed)
    return rows


# --- the home and the run ------------------------------------------------------------------


def kim_hub_command() -> list[str]:
    """The installed console script beside this interpreter, as an operator would call it."""
    script = Path(sys.executable).parent / "kim-hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kim_hub.cli"]


def child_environment(workers: int) -> dict[str, str]:
    """This environment with a fixed worker count, and without a configured Prefect server or
    home: the command must start its own temporary server and use only ``--home``."""
    env = {k: v for k, v in os.environ.items() if k not in ("KIM_HUB_PREFECT_API_URL", "KIM_HUB_HOME", "PREFECT_API_URL")}
    env["KIM_HUB_WORKERS"] = str(workers)
    return env


def plant_key(home: Path) -> None:
    """A fixed master key before `kim-hub init` (which never overwrites a key): every run
    encodes and so links the same way, and the figures compare between runs."""
    key_dir = HubHome(home).key_dir(HubConfig())
    key_dir.mkdir(parents=True)
    os.chmod(key_dir, 0o700)
    descriptor = os.open(key_path(key_dir, DEFAULT_KEY_ID), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(BENCHMARK_MASTER_KEY).decode() + "\n")
    write_scheme(key_dir, DEFAULT_KEY_ID, SCHEME)  # as `kim-hub init` writes a new key version
    set_current(key_dir, DEFAULT_KEY_ID)


def init_home(home: Path, env: dict[str, str]) -> None:
    """`kim-hub init --home HOME` with the benchmark key planted; fails loudly if init fails."""
    plant_key(home)
    result = subprocess.run(
        [*kim_hub_command(), "init", "--home", str(home)], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"kim-hub init failed ({result.returncode}):\n{result.stderr[-3000:]}")


def deliver(delivery: Path, home: Path) -> Path:
    """Copy the delivery into the source's inbox, modified an hour ago: settled, read at once."""
    target = HubHome(home).inbox(SOURCE) / delivery.name
    shutil.copyfile(delivery, target)
    past = time.time() - SETTLED_AGO_SECONDS
    os.utime(target, (past, past))
    return target


# --- sampling the process tree -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            found += [int(child) for child in task.read_text().split()]
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # the process ended meanwhile
        pass
    return 0  # a zombie has no VmRSS line


def is_prefect_server(pid: int) -> bool:
    """Prefect's API server: ``prefect server start`` or the uvicorn serving ``prefect.server``
    that the hub starts for itself (read until it says so: a forked child is the hub until it
    execs; an exiting server's command line reads empty, hence ``split_tree`` remembers)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "prefect server" in command or "prefect.server" in command


def split_tree(root: int, known_servers: set[int]) -> tuple[list[int], list[int]]:
    """(the hub's processes, the Prefect server's processes) under ``root``, root included;
    ``known_servers`` holds the server pids seen so far and gains the new ones."""
    hub, server, todo = [], [], [(root, False)]
    while todo:
        pid, in_server = todo.pop()
        in_server = in_server or pid in known_servers or is_prefect_server(pid)
        if in_server:
            known_servers.add(pid)
        (server if in_server else hub).append(pid)
        todo += [(child, in_server) for child in _children(pid)]
    return hub, server


class TreeRssSampler:
    """Peaks of summed VmRSS of a child's process tree, sampled every 0.2 s from /proc in a
    thread: the child's workers are alive until it ends, so the child's own rusage misses them."""

    def __init__(self, root: int, receipts: Path) -> None:
        self.root = root
        self.receipts = receipts
        self.started = time.perf_counter()
        self.hub_peak_kb = 0
        self.intake_peak_kb = 0  # until the delivery's receipt is written: then its rows are stored
        self.intake_s: float | None = None
        self.server_peak_kb = 0
        self.max_processes = 0
        self.server_seen_s: float | None = None
        self._servers: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(SAMPLE_SECONDS):
                return

    def sample(self) -> None:
        hub, server = split_tree(self.root, self._servers)
        hub_kb = [kb for kb in map(_rss_kb, hub) if kb]  # a zombie holds no memory and is no process to count
        self.hub_peak_kb = max(self.hub_peak_kb, sum(hub_kb))
        if self.intake_s is None:
            self.intake_peak_kb = self.hub_peak_kb
            if any(self.receipts.glob("*.receipt.json")):
                self.intake_s = round(time.perf_counter() - self.started, 1)
        self.server_peak_kb = max(self.server_peak_kb, sum(_rss_kb(pid) for pid in server))
        self.max_processes = max(self.max_processes, len(hub_kb))
        if server and self.server_seen_s is None:
            self.server_seen_s = round(time.perf_counter() - self.started, 1)


@dataclass
class Run:
    """One ingest of the delivery into a fresh home."""

    intake_peak_tree_rss_mb: float  # until the receipt: read, map, pseudonymise, store
    intake_s: float | None
    peak_tree_rss_mb: float  # the whole command: with the link step, the push and the report
    child_maxrss_mb: float
    prefect_server_peak_rss_mb: float
    prefect_server_seen_s: float | None
    max_hub_processes: int
    wall_s: float
    exit_code: int
    receipt: dict[str, object] = field(default_factory=dict)
    all_rows_landed: bool = False


def ingest(home: Path, env: dict[str, str], log: Path, intake_only: bool) -> Run:
    """`kim-hub ingest --home HOME` as a child, its tree sampled until it is reaped by wait4
    (which also hands over its rusage; Popen would reap it without). Output goes to ``log``.out
    and .err: files, not pipes, so a chatty run can neither block nor grow this process.
    ``intake_only``: the child is stopped (SIGTERM) once the receipt is written, sparing the
    link step of a million records its many minutes."""
    with log.with_suffix(".out").open("w") as out, log.with_suffix(".err").open("w") as err:
        started = time.perf_counter()
        child = subprocess.Popen([*kim_hub_command(), "ingest", "--home", str(home)], stdout=out, stderr=err, env=env)
        with TreeRssSampler(child.pid, HubHome(home).outbox(SOURCE, "receipts")) as sampler:
            while intake_only and child.poll() is None and sampler.intake_s is None:
                time.sleep(SAMPLE_SECONDS)
            if intake_only and sampler.intake_s is not None:
                child.terminate()
            _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen so it does not wait again
    return Run(
        intake_peak_tree_rss_mb=round(sampler.intake_peak_kb / 1024, 1),
        intake_s=sampler.intake_s,
        peak_tree_rss_mb=round(sampler.hub_peak_kb / 1024, 1),
        child_maxrss_mb=round(usage.ru_maxrss / 1024, 1),
        prefect_server_peak_rss_mb=round(sampler.server_peak_kb / 1024, 1),
        prefect_server_seen_s=sampler.server_seen_s,
        max_hub_processes=sampler.max_processes,
        wall_s=round(wall, 1),
        exit_code=child.returncode,
    )


def read_receipt(home: Path) -> dict[str, object]:
    """The delivery's receipt counts: the proof that the rows landed, not merely that it ran;
    with the first rejection's reason, so a file refused whole (over a size limit) says why."""
    found = sorted(HubHome(home).outbox(SOURCE, "receipts").glob("*.receipt.json"))
    if len(found) != 1:
        return {"status": f"{len(found)} receipts"}
    data = json.loads(found[0].read_text(encoding="utf-8"))
    receipt = {key: data.get(key) for key in ("status", "rows_total", "accepted", "unchanged", "rejected")}
    if data.get("rejections"):
        receipt["first_rejection"] = data["rejections"][0].get("reason")
    return receipt


def unpacked_bytes(delivery: Path) -> int | None:
    """An XLSX's size unpacked (the hub refuses a workbook that unpacks too large), else None."""
    if delivery.suffix != ".xlsx":
        return None
    with zipfile.ZipFile(delivery) as archive:
        return sum(part.file_size for part in archive.infolist())


def run_once(delivery: Path, rows: int, work: Path, number: int, env: dict[str, str], intake_only: bool) -> Run:
    """A fresh home, the delivery settled in its inbox, one ingest, the receipt checked."""
    home = work / f"home-{number}"
    init_home(home, env)
    deliver(delivery, home)
    log = work / f"ingest-{number}"
    run = ingest(home, env, log, intake_only)
    run.receipt = read_receipt(home)
    finished = intake_only or run.exit_code == 0
    run.all_rows_landed = finished and run.receipt.get("rows_total") == rows and run.receipt.get("accepted") == rows
    if not run.all_rows_landed:
        print(f"run {number}: not every row landed; kim-hub ingest stderr (tail):", file=sys.stderr)
        print(log.with_suffix(".err").read_text(errors="replace")[-3000:], file=sys.stderr)
    return run


# --- reporting -----------------------------------------------------------------------------


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def median_of(runs: list[Run]) -> dict[str, float]:
    """The median of each figure over the runs (one run: its figures)."""
    names = ("intake_peak_tree_rss_mb", "peak_tree_rss_mb", "child_maxrss_mb", "prefect_server_peak_rss_mb", "wall_s")
    return {name: round(statistics.median(getattr(run, name) for run in runs), 1) for name in names}


def print_table(runs: list[Run], median: dict[str, float]) -> None:
    """One line per run and the median: peak tree RSS is the figure the bound is on."""
    print(f"{'run':>6} {'intake MB':>9} {'tree MB':>8} {'maxrss MB':>9} {'prefect MB':>10} {'wall s':>7} {'exit':>4}  receipt")
    for number, run in enumerate(runs, start=1):
        receipt = run.receipt
        landed = (
            f"{receipt.get('status')} {receipt.get('accepted')}/{receipt.get('rows_total')} rejected {receipt.get('rejected')}"
        )
        if receipt.get("first_rejection"):
            landed += f" ({receipt['first_rejection']})"
        print(
            f"{number:>6} {run.intake_peak_tree_rss_mb:>9.1f} {run.peak_tree_rss_mb:>8.1f} {run.child_maxrss_mb:>9.1f} "
            f"{run.prefect_server_peak_rss_mb:>10.1f} {run.wall_s:>7.1f} {run.exit_code:>4}  {landed}"
        )
    print(
        f"{'median':>6} {median['intake_peak_tree_rss_mb']:>9.1f} {median['peak_tree_rss_mb']:>8.1f} {median['child_maxrss_mb']:>9.1f} "
        f"{median['prefect_server_peak_rss_mb']:>10.1f} {median['wall_s']:>7.1f}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--megabytes", type=float, default=None, help="delivery size in MiB (default: 256 CSV, 50 XLSX)")
    parser.add_argument("--workers", type=int, default=1, help="KIM_HUB_WORKERS for the ingest (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="fresh homes on the same file; the median is reported")
    parser.add_argument("--limit-mb", type=float, default=1024, help="exit 1 when the intake's peak tree RSS exceeds this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--intake-only", action="store_true", help="stop the command once the receipt is written (skip the link step)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (delivery, homes, logs)")
    args = parser.parse_args()
    if args.megabytes is None:
        args.megabytes = 256.0 if args.format == "csv" else 50.0
    return args


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="kimhub-intake-memory-"))
    delivery = work / f"delivery.{args.format}"
    started = time.perf_counter()
    write = write_csv if args.format == "csv" else write_xlsx
    rows = write(delivery, int(args.megabytes * MIB), args.seed)
    generate_s = time.perf_counter() - started
    print(f"{args.format} delivery: {delivery.stat().st_size / MIB:.1f} MiB, {rows} rows, {generate_s:.1f} s", file=sys.stderr)

    env = child_environment(args.workers)
    runs = [run_once(delivery, rows, work, number, env, args.intake_only) for number in range(1, args.repeat + 1)]
    median = median_of(runs)
    print_table(runs, median)
    highest = max(run.intake_peak_tree_rss_mb for run in runs)
    landed = all(run.all_rows_landed for run in runs)
    result = {
        "benchmark": "intake-memory",
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "format": args.format,
        "target_mb": args.megabytes,
        "file_bytes": delivery.stat().st_size,
        "file_mb": round(delivery.stat().st_size / MIB, 1),
        "unpacked_bytes": unpacked_bytes(delivery),
        "rows": rows,
        "generate_s": round(generate_s, 1),
        "workers": args.workers,
        "intake_only": args.intake_only,
        "repeat": args.repeat,
        "limit_mb": args.limit_mb,
        "median": median,
        "highest_intake_peak_tree_rss_mb": highest,
        "all_rows_landed": landed,
        "within_limit": highest <= args.limit_mb,
        "runs": [asdict(run) for run in runs],
        "work_dir": str(work) if args.keep else None,
    }
    megabytes = f"{args.megabytes:g}"
    out = ROOT / "benchmarks" / "results" / f"intake-memory-{args.format}-{megabytes}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}", file=sys.stderr)
    if not args.keep:
        shutil.rmtree(work)
    if not landed:
        print("FAIL: not every row landed (see the receipt column)", file=sys.stderr)
        return 1
    if highest > args.limit_mb:
        print(f"FAIL: the intake's peak tree RSS {highest:.1f} MB exceeds the limit of {args.limit_mb:g} MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
