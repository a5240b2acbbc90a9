"""Child processes that die with the process that started them.

A hub process killed with SIGKILL (a cron timeout, the out-of-memory killer) runs no clean-up:
its children would live on, a Prefect API server still serving the home's database, pool workers
blocked forever on a queue nobody writes to. Two ways to prevent it:

* a direct child asks the kernel for SIGKILL when its parent dies (Linux ``PR_SET_PDEATHSIG``,
  ``death_signal_request``), as the temporary Prefect server does;
* a pool worker is no direct child: the forkserver forks it, and the forkserver in turn stays
  alive as long as any worker holds its "alive" pipe, so a death signal tied to the forkserver
  never comes. A worker therefore watches the hub process itself (``exit_with``: a pidfd, which
  becomes readable when that process ends, or polling where there is none) and exits with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def can_die_with_parent() -> bool:
    """Does this platform let a child ask to be killed when its parent dies?"""
    return sys.platform.startswith("linux") and ctypes.util.find_library("c") is not None


def death_signal_request(parent: int) -> Callable[[], None]:
    """A function for a new child to run first: be killed when ``parent`` dies, or exit at once
    if it already has. libc is loaded here, before the fork, so that between fork and exec (as a
    ``preexec_fn``) the child makes only the system call."""
    if not can_die_with_parent():
        return lambda: None
    prctl = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl

    def request() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request was made
            os._exit(1)

    return request


def exit_with(pid: int) -> None:
    """In a worker (a pool's initializer): exit at once when process ``pid`` ends."""
    try:
        handle: int | None = os.pidfd_open(pid)
    except ProcessLookupError:  # already gone
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd on this platform or kernel
        handle = None
    threading.Thread(target=_exit_when_gone, args=(pid, handle), name="kim-hub-exit-with", daemon=True).start()


def _exit_when_gone(pid: int, handle: int | None) -> None:
    if handle is not None:
        select.select([handle], [], [])  # readable once the process has ended
    else:
        while _running(pid):
            time.sleep(1)
    os._exit(1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
