"""Worker processes and threads give what one process gives, in order, even when a worker dies."""

from __future__ import annotations

import os

import pytest

from linkage import parallel


def double_unless_in_a_worker(item: tuple[int, int, int]) -> int:
    """Doubles; a worker process (not the parent) dies on the item marked to kill it."""
    parent, value, kill = item
    if value == kill and os.getpid() != parent:
        os._exit(1)
    return 2 * value


def test_processes_give_results_in_order() -> None:
    parallel._reset_pool()
    items = [(os.getpid(), i, -1) for i in range(25)]
    assert list(parallel.map_in_processes(double_unless_in_a_worker, items, workers=2)) == [2 * i for i in range(25)]
    assert parallel._pool is not None


def test_a_dead_worker_loses_no_item() -> None:
    parallel._reset_pool()
    items = [(os.getpid(), i, 7) for i in range(25)]
    assert list(parallel.map_in_processes(double_unless_in_a_worker, items, workers=2)) == [2 * i for i in range(25)]
    assert parallel._pool is None, "the broken pool was dropped; the rest ran in-process"


def test_threads_give_results_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIM_HUB_LINK_THREADS", "3")
    assert parallel.map_in_threads(lambda i: i * i, 10) == [i * i for i in range(10)]
