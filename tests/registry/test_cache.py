"""The offline copy: full and incremental refresh over mutual TLS, persistence, staleness."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from eintegr.errors import RegistryError, TransportFault
from eintegr.identifiers import Guid
from eintegr.registry.cache import CachedRegister
from eintegr.registry.client import AsyncRegistryClient, RegistryClient
from eintegr.registry.files import load_directory, save_directory
from eintegr.registry.model import Participant
from eintegr.registry.server import start_register_server
from eintegr.registry.soap import Directory, build_response
from eintegr.transport.asgi_server import BackgroundServer
from eintegr.transport.soap import SoapFault, build_fault
from tests.registry.conftest import (
    ALPHA_GUID,
    BETA_GUID,
    BRANCH_GUID,
    T2,
    T3,
    Pki,
    ScriptedServer,
    exchange,
)

NEW_GUID = Guid.parse("{99999999-8888-4777-8666-555555555555}")


@dataclasses.dataclass
class Live:
    server: BackgroundServer
    file: Path
    directory: Directory

    @property
    def url(self) -> str:
        return self.server.url + "/service/"

    def publish(self, directory: Directory) -> None:
        save_directory(directory, self.file)
        self.directory = directory


@pytest.fixture
def live(pki: Pki, directory: Directory, tmp_path: Path) -> Iterator[Live]:
    """A register fed from a file that the test changes (read again on every change)."""
    file = tmp_path / "register.json"
    save_directory(directory, file)
    server = start_register_server(
        file,
        certificate=pki.server,
        client_ca=[pki.ca.certificate],
        require_client_certificate=True,
    )
    try:
        yield Live(server, file, directory)
    finally:
        server.stop()


def client(url: str, pki: Pki) -> RegistryClient:
    return RegistryClient(url, client_certificate=pki.alpha, verify=[pki.ca.certificate], timeout=5)


def changed(directory: Directory) -> Directory:
    """Beta renamed and a new participant, both changed at T3; the register's LastChange T3."""
    renamed = tuple(
        dataclasses.replace(p, name="Агенция Бета (нова)", last_change=T3)
        if p.guid == BETA_GUID
        else p
        for p in directory.participants
    )
    newcomer = Participant(
        eik="175074752",
        guid=NEW_GUID,
        name="Нов участник",
        certificate_serial="deadbeef01",
        services=(exchange("https://new.example.bg/Submit"),),
        last_change=T3,
    )
    return Directory((*renamed, newcomer), T3)


def test_full_then_incremental_refresh_and_persistence(
    live: Live, pki: Pki, tmp_path: Path
) -> None:
    path = tmp_path / "cache" / "register-cache.json"
    cache = CachedRegister(path)
    assert cache.is_stale
    assert cache.refreshed_at is None
    assert len(cache) == 0
    with client(live.url, pki) as registry:
        first = cache.refresh(registry)
        assert (first.full, first.since, first.received, first.changed, first.total) == (
            True, None, 3, 3, 3,
        )  # fmt: skip
        assert first.last_change == T2
        assert not cache.is_stale
        assert cache.by_guid(BETA_GUID).name == "Агенция Бета"

        live.publish(changed(live.directory))
        second = cache.refresh(registry)
    assert not second.full
    assert second.since == T2  # the register's LastChange from the first answer
    assert second.received == 3  # changed at or after T2: beta, the branch, the newcomer
    assert second.changed == 2  # beta renamed, the newcomer added; the branch is the same
    assert second.total == 4
    assert second.last_change == T3
    assert cache.by_guid(BETA_GUID).name == "Агенция Бета (нова)"
    assert cache.by_guid(NEW_GUID).endpoint == "https://new.example.bg/Submit"

    reopened = CachedRegister(path)  # survives a restart
    assert reopened.participants() == cache.participants()
    assert reopened.last_change == T3
    assert reopened.refreshed_at == cache.refreshed_at
    assert reopened.source == live.url
    assert not reopened.is_stale
    assert reopened.by_certificate_serial(pki.beta.certificate.serial_number).guid == BETA_GUID
    # the cache file is a register file: the local register can serve it
    assert len(load_directory(path).participants) == 4
    assert json.loads(path.read_text(encoding="utf-8"))["source"] == live.url


def test_look_ups_prefer_active_head_offices(live: Live, pki: Pki) -> None:
    cache = CachedRegister()
    with client(live.url, pki) as registry:
        cache.refresh(registry)
    assert cache.by_eik("831641791").guid == ALPHA_GUID  # not the inactive branch
    assert cache.by_guid(str(BRANCH_GUID).upper()).parent_guid == ALPHA_GUID
    branch = cache.by_certificate_serial("0ABC123")
    assert branch.guid == BRANCH_GUID
    assert not branch.is_active
    with pytest.raises(RegistryError) as info:
        _ = branch.endpoint  # its document-exchange service is temporarily inactive
    assert info.value.code == "REGISTRY-NO-ENDPOINT"
    look_ups: list[Callable[[], Participant]] = [
        lambda: cache.by_guid(NEW_GUID),
        lambda: cache.by_eik("000695089"),
        lambda: cache.by_certificate_serial("1234567"),
    ]
    for look_up in look_ups:
        with pytest.raises(RegistryError) as missing:
            look_up()
        assert missing.value.code == "REGISTRY-UNKNOWN"
    assert [p.name for p in cache.participants()] == sorted(p.name for p in cache.participants())


def test_a_periodic_full_load_drops_removed_participants(live: Live, pki: Pki) -> None:
    cache = CachedRegister(full_every=timedelta(days=1))
    with client(live.url, pki) as registry:
        cache.refresh(registry)
        remaining = tuple(p for p in live.directory.participants if p.guid != BRANCH_GUID)
        live.publish(Directory(remaining, T3))
        incremental = cache.refresh(registry)
        assert not incremental.full
        assert len(cache) == 3  # GetNewRecords cannot tell about removals
        cache.full_every = timedelta(0)
        full = cache.refresh(registry)
    assert full.full
    assert full.changed == 1  # the removed branch
    assert len(cache) == 2
    with pytest.raises(RegistryError):
        cache.by_guid(BRANCH_GUID)


def test_staleness(live: Live, pki: Pki) -> None:
    cache = CachedRegister(max_age=timedelta(hours=1))
    with client(live.url, pki) as registry:
        assert cache.refresh_if_stale(registry) is not None
        assert cache.refresh_if_stale(registry) is None
        assert cache.age is not None
        assert cache.age < timedelta(minutes=1)
        cache.max_age = timedelta(0)
        assert cache.is_stale
        result = cache.refresh_if_stale(registry)
    assert result is not None
    assert not result.full


def test_a_failed_refresh_changes_nothing(
    live: Live, scripted: ScriptedServer, pki: Pki, tmp_path: Path
) -> None:
    path = tmp_path / "cache.json"
    cache = CachedRegister(path)
    with client(live.url, pki) as registry:
        cache.refresh(registry)
    before = path.read_bytes()
    snapshot = (cache.participants(), cache.refreshed_at, cache.last_change)
    scripted.answer(status=500, chunks=[build_fault(SoapFault("Server", "maintenance"))])
    with client(scripted.url, pki) as broken, pytest.raises(TransportFault):
        cache.refresh(broken)
    assert path.read_bytes() == before
    assert (cache.participants(), cache.refreshed_at, cache.last_change) == snapshot


def test_unreadable_records_are_reported_by_the_refresh(
    scripted: ScriptedServer, pki: Pki, directory: Directory
) -> None:
    data = build_response("GetAllRecords", directory).replace(str(BETA_GUID).encode(), b"{broken}")
    scripted.answer(chunks=[data])
    cache = CachedRegister()
    with client(scripted.url, pki) as registry:
        result = cache.refresh(registry)
    assert result.total == 2
    assert [i.code for i in result.rejected] == ["ID-GUID"]


def test_the_async_refresh(live: Live, pki: Pki) -> None:
    cache = CachedRegister()

    async def run() -> None:
        async with AsyncRegistryClient(
            live.url, client_certificate=pki.beta, verify=[pki.ca.certificate], timeout=5
        ) as registry:
            await cache.arefresh(registry)
            live.publish(changed(live.directory))
            result = await cache.arefresh(registry)
            assert result.since == T2
            assert result.total == 4

    asyncio.run(run())
    assert cache.by_guid(NEW_GUID).name == "Нов участник"


def test_look_ups_during_refreshes_see_whole_states(live: Live, pki: Pki) -> None:
    cache = CachedRegister()
    errors: list[BaseException] = []
    stop = threading.Event()
    with client(live.url, pki) as registry:
        cache.refresh(registry)

        def read() -> None:
            try:
                while not stop.is_set():
                    assert cache.by_guid(ALPHA_GUID).guid == ALPHA_GUID
                    names = {p.guid: p.name for p in cache.participants()}
                    assert len(names) in {3, 4}
                    if len(names) == 4:
                        assert names[BETA_GUID] == "Агенция Бета (нова)"
            except BaseException as error:
                errors.append(error)

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        live.publish(changed(live.directory))
        refreshers = [threading.Thread(target=cache.refresh, args=(registry,)) for _ in range(3)]
        for refresher in refreshers:
            refresher.start()
        for refresher in refreshers:
            refresher.join(10)
        stop.set()
        for reader in readers:
            reader.join(10)
    assert errors == []
    assert len(cache) == 4


@pytest.mark.parametrize(
    "content",
    [
        b"{broken",
        b"[]",
        b'{"participants": [{"eik": "1"}]}',
        b'{"participants": [], "refreshed_at": "yesterday"}',
    ],
    ids=["syntax", "array", "bad-record", "bad-refreshed_at"],
)
def test_an_unusable_cache_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cache.json"
    path.write_bytes(content)
    with pytest.raises(RegistryError) as info:
        CachedRegister(path)
    assert info.value.code == "REGISTRY-CACHE"
    assert str(path) in info.value.message_bg
