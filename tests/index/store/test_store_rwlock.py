"""The readers-writer lock: readers share, writers exclude, a waiting writer is not starved."""

from __future__ import annotations

import threading
import time

import pytest

from index.store.rwlock import ReadWriteLock


def test_readers_share_the_lock() -> None:
    lock = ReadWriteLock()
    inside = threading.Barrier(3, timeout=5)

    def reader() -> None:
        with lock.read():
            inside.wait()  # all three must hold the read lock at once to pass

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    reader()
    for thread in threads:
        thread.join()


def test_writer_excludes_readers_and_is_preferred() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    lock.acquire_read()
    writer_waiting = threading.Event()

    def writer() -> None:
        writer_waiting.set()
        with lock.write():
            events.append("write")

    def late_reader() -> None:
        with lock.read():
            events.append("late read")

    writer_thread = threading.Thread(target=writer)
    writer_thread.start()
    assert writer_waiting.wait(5)
    time.sleep(0.1)  # let the writer block on the held read lock
    reader_thread = threading.Thread(target=late_reader)
    reader_thread.start()
    time.sleep(0.1)
    assert events == []  # writer waits for the reader; the late reader waits for the writer
    lock.release_read()
    writer_thread.join(5)
    reader_thread.join(5)
    assert events == ["write", "late read"]


def test_unbalanced_release_raises() -> None:
    lock = ReadWriteLock()
    with pytest.raises(RuntimeError):
        lock.release_read()
    with pytest.raises(RuntimeError):
        lock.release_write()
