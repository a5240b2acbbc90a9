"""Which checkout of ``kim_hub`` a benchmark measured, for its result file.

A side-by-side run points ``PYTHONPATH`` at another checkout (``/tmp/oldpkg/kim_hub``) while the
script itself comes from this one, so the commit is read where the imported package lives, not
where the script does; ``+changes`` marks a checkout with uncommitted changes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def measured_checkout() -> tuple[Path, str]:
    """(the directory of the ``kim_hub`` imported, its short commit, with ``+changes`` if changed)."""
    import kim_hub

    checkout = Path(next(iter(kim_hub.__path__))).resolve()

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", str(checkout), *arguments], capture_output=True, text=True, check=False
        ).stdout.strip()

    return checkout, (git("rev-parse", "--short", "HEAD") or "unknown") + ("+changes" if git("status", "--porcelain") else "")
