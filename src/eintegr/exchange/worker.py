"""The background sender: makes every due attempt, and resumes after a restart.

A :class:`Worker` runs :meth:`~eintegr.exchange.node.Node.process_due` in a thread until it
is stopped. It sleeps until the journal's next due time (or ``poll_interval``, whichever is
sooner) and wakes at once on :meth:`Worker.wake`. Everything it needs is in the journal, so
a new worker on a restarted process simply carries on: queued messages, retries whose time
came while the process was down, and attempts cut short by a crash (their lease expires).
Several workers — threads, processes or hosts sharing one journal — never send the same
message at once: each attempt is leased.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Self

from eintegr.exchange.node import Node

__all__ = ["Worker"]

_log = logging.getLogger("eintegr.exchange.worker")


class Worker:
    """Sends due messages of ``node`` in a background thread.

    :param node: the participant whose journal is worked off.
    :param poll_interval: the longest sleep between looks at the journal, in seconds (other
        processes may queue messages in a shared journal).
    :param batch: messages leased per round.
    :param on_round: called after each round that attempted something, with the count
        (progress output).
    """

    def __init__(
        self,
        node: Node,
        *,
        poll_interval: float = 1.0,
        batch: int = 16,
        on_round: Callable[[int], None] | None = None,
    ) -> None:
        if poll_interval <= 0 or batch < 1:
            raise ValueError("poll_interval and batch must be positive")
        self.node = node
        self.poll_interval = poll_interval
        self.batch = batch
        self.on_round = on_round
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.attempted = 0

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the thread (once).

        :raises RuntimeError: already started.
        """
        if self._thread is not None:
            raise RuntimeError("the worker was already started")
        self._thread = threading.Thread(
            target=self._run, name=f"eintegr-worker-{self.node.identity.eik}", daemon=True
        )
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the journal now (e.g. after queueing messages with ``deliver=False``)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current attempt, then stop; waits up to ``timeout`` seconds."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """One round in the calling thread: attempt what is due now; return how many."""
        count = self.node.process_due(self.batch)
        self.attempted += count
        if count and self.on_round is not None:
            try:
                self.on_round(count)
            except Exception:
                _log.exception("the progress callback failed")
        return count

    def _sleep_time(self) -> float:
        due = self.node.journal.next_due()
        if due is None:
            return self.poll_interval
        wait = (due - self.node.clock()) / timedelta(seconds=1)
        return max(0.0, min(self.poll_interval, wait))

    def _run(self) -> None:
        _log.info("worker started for %s", self.node.identity.name, extra={"event": "worker.start"})
        while not self._stopping.is_set():
            try:
                if self.run_once():
                    continue
                wait = self._sleep_time()
            except Exception:
                _log.exception("the worker round failed; trying again")
                wait = self.poll_interval
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()
        _log.info("worker stopped for %s", self.node.identity.name, extra={"event": "worker.stop"})

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
