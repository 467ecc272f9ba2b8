"""One writer per data dir: an OS file lock held while a store is open for writing.

The kernel drops the lock when its holder exits however it exits (kill -9 included), so a stale
lock never needs clearing by hand.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from index.errors import StoreLockedError

WRITER_LOCK_FILE = "writer.lock"


def take_writer_lock(directory: Path) -> FileLock:
    """The data dir's writer lock, taken now or StoreLockedError; release it when done."""
    # thread_local=False: a server opens the store on one thread and closes it on another.
    lock = FileLock(directory / WRITER_LOCK_FILE, blocking=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise StoreLockedError(
            f"the data dir {directory} is in use by another shazam-anime process (a running "
            "server or a CLI write); stop it first, or add titles through the server's "
            "POST /titles"
        ) from None
    return lock
