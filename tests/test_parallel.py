"""Worker processes and threads give what one process gives, in order, even when a worker dies."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

from kim_hub.runtime import parallel


def double_unless_in_a_worker(item: tuple[int, int, int]) -> int:
    """Doubles; a worker process (not the parent) dies on the item marked to kill it."""
    parent, value, kill = item
    if value == kill and os.getpid() != parent:
        os._exit(1)
    return 2 * value


def test_processes_give_results_in_order() -> None:
    parallel.release_workers()
    items = [(os.getpid(), i, -1) for i in range(25)]
    assert list(parallel.map_in_processes(double_unless_in_a_worker, items, workers=2)) == [2 * i for i in range(25)]
    assert parallel._pool is not None


def test_a_dead_worker_loses_no_item() -> None:
    parallel.release_workers()
    items = [(os.getpid(), i, 7) for i in range(25)]
    assert list(parallel.map_in_processes(double_unless_in_a_worker, items, workers=2)) == [2 * i for i in range(25)]
    assert parallel._pool is None, "the broken pool was dropped; the rest ran in-process"


class _PoolThatBreaksOnSubmit:
    """A pool whose workers died while the caller was away: the next submit raises."""

    def __init__(self, good_submits: int) -> None:
        self.left = good_submits

    def submit(self, task, item):  # noqa: ANN001, ANN201 - the executor's signature
        if self.left == 0:
            raise BrokenProcessPool("a worker died")
        self.left -= 1
        done: Future = Future()
        done.set_result(task(item))
        return done

    def shutdown(self, wait: bool, cancel_futures: bool) -> None:
        pass


@pytest.mark.parametrize("good_submits", [0, 1, 3, 4, 9])
def test_an_item_whose_submit_finds_the_pool_broken_is_not_lost(monkeypatch: pytest.MonkeyPatch, good_submits: int) -> None:
    """Which call notices a dead worker is a race: the result of an earlier item, or the submit
    of the next one. Either way every item is given back once, in order (CI saw the second)."""
    monkeypatch.setattr(parallel, "_get_pool", lambda workers: _PoolThatBreaksOnSubmit(good_submits))
    items = [(os.getpid(), i, -1) for i in range(12)]
    assert list(parallel.map_in_processes(double_unless_in_a_worker, items, workers=2)) == [2 * i for i in range(12)]


def test_threads_give_results_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIM_HUB_LINK_THREADS", "3")
    assert parallel.map_in_threads(lambda i: i * i, 10) == [i * i for i in range(10)]


@pytest.mark.parametrize("threads", ["2", "1"])
def test_background_work_gives_its_result_or_its_error(monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    """In a thread of its own (or, with one link thread, at once in the caller's), and an
    error reaches the caller when it asks for the result."""
    monkeypatch.setenv("KIM_HUB_LINK_THREADS", threads)
    ran_in: list[str] = []

    def task() -> int:
        ran_in.append(threading.current_thread().name)
        return 42

    assert parallel.in_background(task).result(timeout=10) == 42
    assert ran_in[0].startswith("kim-hub-background") == (threads != "1")

    def failing() -> int:
        raise ValueError("a kind of problem")

    failed = parallel.in_background(failing)
    with pytest.raises(ValueError, match="a kind of problem"):
        failed.result(timeout=10)
