"""Spreading the hub's heavy work over the cores: threads for numpy, processes for Python.

Comparing and scoring candidate pairs is long array passes, during which numpy releases the
GIL, so threads share the cores without copying the index into other processes (two threads
score candidate pairs almost twice as fast on two cores; benchmarks/README.md).
``KIM_HUB_LINK_THREADS`` sets the number (1: everything in the calling thread).

Pure-Python work (mapping and pseudonymising rows, parsing stored encodings) holds the GIL, so
it goes to worker processes instead (``map_in_processes``): one pool per process, started on
first use and reused. It uses ``forkserver`` (a worker forked from a Prefect process would
inherit its threads' locks), so the program that starts it needs the usual
``if __name__ == "__main__"`` guard. Should a worker die, the rest is done in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from kim_hub.runtime.lifetime import exit_with
from kim_hub.runtime.memory import return_freed_memory

T = TypeVar("T")
A = TypeVar("A")
MAX_THREADS = 4  # each holds a piece of candidate pairs and its temporaries: bounds memory
MAX_PROCESSES = 4  # beyond that the parent, storing or assembling alone, is the limit


def usable_cores() -> int:
    """Cores this process may run on (its affinity, where the platform tells)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def worker_processes() -> int:
    """Worker processes for pure-Python work: ``KIM_HUB_WORKERS``, else the usable cores up to
    ``MAX_PROCESSES`` (1: everything in-process)."""
    configured = os.environ.get("KIM_HUB_WORKERS", "").strip()
    return max(1, int(configured)) if configured else max(1, min(usable_cores(), MAX_PROCESSES))


def link_threads() -> int:
    configured = os.environ.get("KIM_HUB_LINK_THREADS", "").strip()
    return max(1, int(configured)) if configured else max(1, min(usable_cores(), MAX_THREADS))


def map_in_threads(task: Callable[[int], T], count: int) -> list[T]:
    """``[task(0), …, task(count - 1)]``, computed by ``link_threads()`` threads (in order)."""
    threads = min(link_threads(), count)
    if threads <= 1:
        return [task(i) for i in range(count)]
    with ThreadPoolExecutor(threads, thread_name_prefix="kim-hub-link") as pool:
        results = list(pool.map(task, range(count)))
    return_freed_memory()  # each thread's malloc arena keeps the temporaries it freed
    return results


def in_background(task: Callable[[], T]) -> Future[T]:
    """``task()`` started in a thread of its own, for numpy work that overlaps what the caller
    does meanwhile (``.result()`` waits for it); in the calling thread, done, when
    ``link_threads()`` is 1."""
    if link_threads() <= 1:
        done: Future[T] = Future()
        try:
            done.set_result(task())
        except Exception as error:  # noqa: BLE001 - handed to the caller, as a thread's would be
            done.set_exception(error)
        return done
    executor = ThreadPoolExecutor(1, thread_name_prefix="kim-hub-background")
    started = executor.submit(task)
    executor.shutdown(wait=False)  # the thread ends with the task
    return started


_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def map_in_processes(task: Callable[[A], T], items: Iterable[A], workers: int) -> Iterator[T]:
    """``task(item)`` for each item, in order, computed by ``workers`` processes (``task`` must
    be a module-level function). Lazy, with a few items in flight: items are taken from
    ``items`` only as results are collected, so a large input is never held whole."""
    if workers <= 1:
        yield from map(task, items)
        return
    waiting: deque[A] = deque()  # taken from ``items``, result not yet given back
    futures: deque[Future[T]] = deque()
    source = iter(items)
    pool = _get_pool(workers)
    try:
        for item in source:
            waiting.append(item)  # before submitting: once a worker has died, submit raises too
            futures.append(pool.submit(task, item))
            if len(waiting) >= 2 * workers:
                yield _next_result(waiting, futures)
        while waiting:
            yield _next_result(waiting, futures)
    except BrokenProcessPool:  # a worker died (killed, out of memory): the rest in-process
        release_workers()
        for item in waiting:
            yield task(item)
        yield from map(task, source)


def _next_result(waiting: deque[A], futures: deque[Future[T]]) -> T:
    """The oldest item's result; the item stays waiting until its result is in hand."""
    result = futures[0].result()
    futures.popleft()
    waiting.popleft()
    return result


def _get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != workers:
        release_workers()
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            context.set_forkserver_preload([__name__])
        # a worker exits with this process, also when it is killed (runtime.lifetime)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=exit_with, initargs=(os.getpid(),))
        _pool, _pool_size = pool, workers
    return _pool


def release_workers() -> None:
    """Stop the worker processes (the next ``map_in_processes`` starts new ones). Between
    ingest and linking they would only hold their token caches, which at a million records add
    about a gigabyte to the link run's peak."""
    global _pool  # noqa: PLW0603 - the process's one worker pool is module state (kept between calls)
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None
