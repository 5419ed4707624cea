"""The offline copy of the participants' register (the specification's "offline mode").

:class:`CachedRegister` keeps every participant in memory for fast, thread-safe look-ups
and in one JSON file (written atomically, so it survives crashes and restarts). It is
refreshed from the register's web service:

* the first time (or when asked, or when the last full load is older than ``full_every``)
  with ``GetAllRecords``, which replaces the whole copy;
* afterwards incrementally with ``GetNewRecords(date)``, ``date`` being the register's own
  ``LastChange`` from the previous answer (or the latest participant's): changed
  participants replace their previous record, matched by GUID.

The cache file is a register file in the JSON format of :mod:`eintegr.registry.files` with
a few more keys (``refreshed_at``, ``full_at``, ``source``), so the local register server
can serve it too. Staleness is visible: :attr:`CachedRegister.refreshed_at`,
:attr:`CachedRegister.age`, :attr:`CachedRegister.is_stale`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from eintegr.errors import RegistryError
from eintegr.identifiers import Guid
from eintegr.registry.files import atomic_write, directory_from_json, directory_to_json
from eintegr.registry.model import Participant, Register, normalize_serial
from eintegr.registry.soap import Directory, RecordIssue, format_datetime, parse_datetime

__all__ = ["AsyncRegistrySource", "CachedRegister", "RefreshResult", "RegistrySource"]

_log = logging.getLogger("eintegr.registry.cache")
_UTC_MIN = datetime.min.replace(tzinfo=UTC)


class RegistrySource(Protocol):
    """What :meth:`CachedRegister.refresh` needs (a :class:`.client.RegistryClient`)."""

    url: str

    def all_records(self) -> Directory:
        """``GetAllRecords``."""
        ...

    def new_records(self, since: datetime) -> Directory:
        """``GetNewRecords``."""
        ...


class AsyncRegistrySource(Protocol):
    """What :meth:`CachedRegister.arefresh` needs (an :class:`.client.AsyncRegistryClient`)."""

    url: str

    async def all_records(self) -> Directory:
        """``GetAllRecords``."""
        ...

    async def new_records(self, since: datetime) -> Directory:
        """``GetNewRecords``."""
        ...


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did.

    :ivar full: the whole register was loaded (``GetAllRecords``).
    :ivar since: the ``date`` sent with ``GetNewRecords`` (``None`` for a full load).
    :ivar received: the records the register returned (and could be read).
    :ivar changed: participants added or changed in the copy.
    :ivar total: participants in the copy afterwards.
    :ivar last_change: the ``LastChange`` the next incremental refresh will send.
    :ivar rejected: records the register returned that could not be read (left out).
    """

    full: bool
    since: datetime | None
    received: int
    changed: int
    total: int
    last_change: datetime | None
    rejected: tuple[RecordIssue, ...] = ()


def _comparable(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _preference(participant: Participant) -> tuple[bool, bool, str]:
    """Sort key: active before inactive, head offices before branches, then by GUID."""
    return (not participant.is_active, participant.parent_guid is not None, str(participant.guid))


@dataclass(frozen=True)
class _Snapshot:
    """An immutable state: swapped whole, so readers never see half a refresh."""

    participants: tuple[Participant, ...] = ()
    last_change: datetime | None = None
    refreshed_at: datetime | None = None
    full_at: datetime | None = None
    source: str | None = None
    by_guid: dict[Guid, Participant] = field(default_factory=dict)
    by_eik: dict[str, Participant] = field(default_factory=dict)
    by_serial: dict[str, Participant] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        participants: Iterable[Participant],
        *,
        last_change: datetime | None,
        refreshed_at: datetime | None,
        full_at: datetime | None,
        source: str | None,
    ) -> _Snapshot:
        ordered = tuple(sorted(participants, key=lambda p: (p.name, str(p.guid))))
        preferred = sorted(ordered, key=_preference, reverse=True)  # the best one written last
        return cls(
            participants=ordered,
            last_change=last_change,
            refreshed_at=refreshed_at,
            full_at=full_at,
            source=source,
            by_guid={p.guid: p for p in ordered},
            by_eik={p.eik: p for p in preferred},
            by_serial={p.certificate_serial: p for p in preferred},
        )


def _time(value: object, key: str, path: Path) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_datetime(value)
    except ValueError:
        raise _cache_error(
            path, f"{key} is not a date and time", f"{key} не е дата и час"
        ) from None


def _cache_error(path: Path, en: str, bg: str) -> RegistryError:
    return RegistryError(
        f"the register cache {path} cannot be used: {en}",
        code="REGISTRY-CACHE",
        message_bg=f"Копието на регистъра {path} не може да бъде използвано: {bg}",
    )


class CachedRegister(Register):
    """An offline copy of the register, kept in one file and refreshed incrementally.

    :param path: the cache file (created on the first refresh; read now when it exists);
        ``None`` keeps the copy in memory only.
    :param max_age: after this long without a refresh the copy :attr:`is_stale`.
    :param full_every: a refresh after this long since the last full load is a full load
        again (picks up participants removed from the register); ``None``: never.
    :raises RegistryError: ``REGISTRY-CACHE`` when an existing file cannot be read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_age: timedelta = timedelta(hours=1),
        full_every: timedelta | None = timedelta(days=1),
    ) -> None:
        self.path = None if path is None else Path(path)
        self.max_age = max_age
        self.full_every = full_every
        self._refresh_lock = threading.Lock()
        self._snapshot = _Snapshot()
        if self.path is not None and self.path.exists():
            self._snapshot = self._load(self.path)

    # --- persistence --------------------------------------------------------------------------

    @staticmethod
    def _load(path: Path) -> _Snapshot:
        try:
            data = path.read_bytes()
            document: Any = json.loads(data)
        except OSError as error:
            reason = error.strerror or str(error)
            raise _cache_error(path, reason, reason) from None
        except ValueError as error:
            raise _cache_error(path, f"not JSON ({error})", f"не е JSON ({error})") from None
        if not isinstance(document, dict):
            raise _cache_error(path, "not a JSON object", "не е JSON обект")
        try:
            directory = directory_from_json(data, source=path.name)
        except RegistryError as error:
            raise _cache_error(path, error.message, error.message_bg) from None
        source = document.get("source")
        return _Snapshot.build(
            directory.participants,
            last_change=directory.last_change,
            refreshed_at=_time(document.get("refreshed_at"), "refreshed_at", path),
            full_at=_time(document.get("full_at"), "full_at", path),
            source=source if isinstance(source, str) else None,
        )

    def _save(self, snapshot: _Snapshot) -> None:
        if self.path is None:
            return

        def text(moment: datetime | None) -> str | None:
            return None if moment is None else format_datetime(moment)

        data = directory_to_json(
            Directory(snapshot.participants, snapshot.last_change),
            source=snapshot.source,
            refreshed_at=text(snapshot.refreshed_at),
            full_at=text(snapshot.full_at),
        )
        atomic_write(self.path, data)

    # --- refresh --------------------------------------------------------------------------------

    def _needs_full(self, full: bool, now: datetime) -> bool:
        current = self._snapshot
        if full or current.full_at is None or current.last_change is None:
            return True
        return self.full_every is not None and now - current.full_at >= self.full_every

    def _merge(
        self,
        directory: Directory,
        *,
        full: bool,
        since: datetime | None,
        source: str,
        now: datetime,
    ) -> RefreshResult:
        current = self._snapshot
        if full:
            merged: dict[Guid, Participant] = {}
        else:
            merged = dict(current.by_guid)
        changed = 0
        for participant in directory.participants:
            if current.by_guid.get(participant.guid) != participant:
                changed += 1
            merged[participant.guid] = participant
        if full:
            changed += sum(1 for guid in current.by_guid if guid not in merged)
        last_change = _latest(directory.latest_change, None if full else current.last_change)
        snapshot = _Snapshot.build(
            merged.values(),
            last_change=last_change,
            refreshed_at=now,
            full_at=now if full else current.full_at,
            source=source,
        )
        self._save(snapshot)
        self._snapshot = snapshot
        for issue in directory.rejected:
            _log.warning("register record left out of the cache: %s %s", issue.code, issue.message)
        return RefreshResult(
            full=full,
            since=since,
            received=len(directory.participants),
            changed=changed,
            total=len(snapshot.participants),
            last_change=last_change,
            rejected=directory.rejected,
        )

    def refresh(self, client: RegistrySource, *, full: bool = False) -> RefreshResult:
        """Bring the copy up to date from ``client`` (see the module docstring); thread-safe.

        On any failure the copy (and its file) stay as they were.

        :raises TransportError: the register could not be asked or answered badly.
        :raises OSError: the cache file cannot be written.
        """
        with self._refresh_lock:
            now = datetime.now(UTC)
            is_full = self._needs_full(full, now)
            since = None if is_full else self._snapshot.last_change
            directory = client.all_records() if since is None else client.new_records(since)
            return self._merge(
                directory, full=since is None, since=since, source=client.url, now=now
            )

    async def arefresh(self, client: AsyncRegistrySource, *, full: bool = False) -> RefreshResult:
        """:meth:`refresh` with an asynchronous client (one refresh at a time per event loop).

        The network call runs without the thread lock; the merge takes it.
        """
        now = datetime.now(UTC)
        is_full = self._needs_full(full, now)
        since = None if is_full else self._snapshot.last_change
        if since is None:
            directory = await client.all_records()
        else:
            directory = await client.new_records(since)
        with self._refresh_lock:
            return self._merge(
                directory, full=since is None, since=since, source=client.url, now=now
            )

    def refresh_if_stale(self, client: RegistrySource) -> RefreshResult | None:
        """Refresh when :attr:`is_stale`; ``None`` when the copy was fresh enough."""
        return self.refresh(client) if self.is_stale else None

    # --- state ----------------------------------------------------------------------------------

    @property
    def refreshed_at(self) -> datetime | None:
        """When the copy was last refreshed (UTC), or ``None`` if never."""
        return self._snapshot.refreshed_at

    @property
    def last_change(self) -> datetime | None:
        """The register's ``LastChange`` as of the last refresh."""
        return self._snapshot.last_change

    @property
    def source(self) -> str | None:
        """The URL of the register the copy was last refreshed from."""
        return self._snapshot.source

    @property
    def age(self) -> timedelta | None:
        """Time since the last refresh, or ``None`` if never refreshed."""
        refreshed = self._snapshot.refreshed_at
        return None if refreshed is None else datetime.now(UTC) - _comparable(refreshed)

    @property
    def is_stale(self) -> bool:
        """True when never refreshed or not refreshed for ``max_age``."""
        age = self.age
        return age is None or age >= self.max_age

    def __len__(self) -> int:
        return len(self._snapshot.participants)

    # --- look-ups -------------------------------------------------------------------------------

    def participants(self) -> Sequence[Participant]:
        """Every participant in the copy (sorted by name)."""
        return self._snapshot.participants

    def by_guid(self, guid: Guid | str) -> Participant:
        """The participant with ``guid`` (compared case-insensitively)."""
        wanted = guid if isinstance(guid, Guid) else Guid.parse_lenient(guid)
        return self._found(self._snapshot.by_guid.get(wanted), f"GUID {wanted}")

    def by_eik(self, eik: str) -> Participant:
        """The participant with ЕИК/БУЛСТАТ ``eik`` (active and head office preferred)."""
        return self._found(self._snapshot.by_eik.get(eik.strip()), f"ЕИК {eik}")

    def by_certificate_serial(self, serial: int | str) -> Participant:
        """The participant whose transport certificate has serial number ``serial``."""
        wanted = normalize_serial(serial)
        return self._found(self._snapshot.by_serial.get(wanted), f"certificate serial {wanted}")

    def _found(self, match: Participant | None, what: str) -> Participant:
        return self._one(iter(() if match is None else (match,)), what)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return a if _comparable(a) >= _comparable(b) else b
