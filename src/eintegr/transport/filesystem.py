"""The file-system transport: messages exchanged through folders, durably and atomically.

Each recipient has an *endpoint folder* (by default ``<root>/<participant UUID>``)::

    inbox/       <name>.xml        messages waiting to be processed (and <name>.crt.pem,
                                   the sender's transport certificate, when it gives one)
    outbox/      <name>.json       the synchronous outcome of each processed message
    processed/   <name>.xml        messages the receiver accepted
    failed/      <name>.xml        messages the receiver refused or failed on
    tmp/                           files being written (never read by the receiving side)

**Sending** (:class:`FileSystemTransport`) writes the message into ``tmp/``, ``fsync``\\ s
it, renames it into ``inbox/`` (atomic on one file system) and ``fsync``\\ s the folder: a
message is in the inbox completely or not at all, and once :meth:`~FileSystemTransport.send`
got past the rename the message survives a crash. With a ``response_timeout`` the sender then
waits for ``outbox/<name>.json`` and returns (or raises) the outcome the receiver produced;
without one it returns the empty outcome at once ("accepted, processed later").

**Receiving** (:class:`FileSystemEndpoint`) hands each inbox file to a
:class:`~eintegr.transport.base.Receiver`, writes the outcome atomically into ``outbox/``,
and only then moves the message to ``processed/`` or ``failed/``. A crash at any point leaves
the message in ``inbox/`` (or already moved, with its outcome written): it is processed again
on restart — delivery is *at least once*, and the receiving pipeline's duplicate check
(П.9) turns a repeat into a refusal instead of a second registration.

The folder's permissions stand in for mutual TLS: whoever can write into ``inbox/`` can
claim any certificate. :class:`FileSystemEndpoint` refuses an inbox that other users may
write to.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from eintegr.errors import (
    ReceiverError,
    SenderError,
    TransportError,
    TransportFault,
)
from eintegr.registry.model import Participant
from eintegr.transport.base import Outcome, Receiver, Transport
from eintegr.transport.checks import ExchangeChecks, OutgoingMessage, read_outgoing
from eintegr.transport.memory import answer_bytes, closed_fault, receiver_crash

__all__ = [
    "FileSystemEndpoint",
    "FileSystemTransport",
    "create_endpoint",
]

INBOX: Final = "inbox"
OUTBOX: Final = "outbox"
PROCESSED: Final = "processed"
FAILED: Final = "failed"
TMP: Final = "tmp"
_FOLDERS: Final = (INBOX, OUTBOX, PROCESSED, FAILED, TMP)
_MESSAGE_SUFFIX: Final = ".xml"
_CERTIFICATE_SUFFIX: Final = ".crt.pem"
_RESULT_SUFFIX: Final = ".json"
_LOCK_FILE: Final = ".lock"
_RESULT_VERSION: Final = 1
_MIB: Final = 1024 * 1024
_PEM: Final = Encoding.PEM
_log = logging.getLogger(__name__)

_Kind = Literal["empty", "response", "fault", "sender", "receiver"]
_ERRORS: Final[dict[str, type[TransportError]]] = {
    "fault": TransportFault,
    "sender": SenderError,
    "receiver": ReceiverError,
}


def create_endpoint(directory: str | os.PathLike[str], *, mode: int = 0o700) -> Path:
    """Create the endpoint folder ``directory`` and its sub-folders (idempotent).

    :param mode: the permissions of folders created here (default: owner only).
    """
    base = Path(directory)
    base.mkdir(mode=mode, parents=True, exist_ok=True)
    for name in _FOLDERS:
        (base / name).mkdir(mode=mode, exist_ok=True)
    return base


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(endpoint: Path, folder: str, name: str, data: bytes, mode: int) -> Path:
    """Write ``data`` to ``endpoint/folder/name`` atomically and durably."""
    temporary = endpoint / TMP / f"{name}.{uuid.uuid4().hex}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    os.close(fd)
    target = endpoint / folder / name
    os.replace(temporary, target)
    _fsync_directory(target.parent)
    return target


def _message_name(message: bytes, outgoing: OutgoingMessage | None) -> str:
    """A unique file stem: the MessageGUID when the header can be read, then a random tag."""
    try:
        guid = (outgoing or read_outgoing(message)).message_guid
    except TransportError:
        guid = None
    prefix = str(guid.uuid) if guid is not None else "x-" + hashlib.sha256(message).hexdigest()[:32]
    return f"{prefix}.{uuid.uuid4().hex}"


def _io_fault(action: str, error: OSError) -> TransportFault:
    return TransportFault(
        f"the message could not be {action}: {error}",
        code="FS-IO",
        message_bg=f"Грешка при работа с файловата система: {error.strerror or error}",
    )


class FileSystemTransport(Transport):
    """Sends messages by writing them, atomically, into the recipient's ``inbox`` folder.

    :param root: the folder holding the endpoint folders ``<root>/<participant UUID>``.
    :param checks: run the sender's checks (И.1–И.6 before, И.9–И.15 on the answer).
    :param certificate: our transport certificate, written next to the message for the
        receiving side (``checks.certificate`` by default).
    :param response_timeout: seconds to wait for the receiver's outcome; ``None`` returns the
        empty outcome as soon as the message is safely in the inbox.
    :param poll_interval: how often the outbox is looked at while waiting.
    :param endpoint_for: the endpoint folder of a participant (instead of the default).
    :param file_mode: permissions of the written files.
    :param check_outgoing: with ``checks``, run И.1–И.6 before writing (default).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        checks: ExchangeChecks | None = None,
        certificate: x509.Certificate | None = None,
        response_timeout: float | None = 30.0,
        poll_interval: float = 0.01,
        endpoint_for: Callable[[Participant], Path] | None = None,
        file_mode: int = 0o600,
        check_outgoing: bool = True,
    ) -> None:
        if response_timeout is not None and response_timeout <= 0:
            raise ValueError("response_timeout must be positive (or None)")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.root = Path(root)
        self.checks = checks
        self.certificate = (
            certificate
            if certificate is not None
            else (checks.certificate if checks is not None else None)
        )
        self.response_timeout = response_timeout
        self.poll_interval = poll_interval
        self.file_mode = file_mode
        self.check_outgoing = check_outgoing
        self._endpoint_for = endpoint_for
        self._closed = threading.Event()

    def endpoint_folder(self, recipient: Participant) -> Path:
        """The endpoint folder of ``recipient``."""
        if self._endpoint_for is not None:
            return Path(self._endpoint_for(recipient))
        return self.root / str(recipient.guid.uuid)

    def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Write ``message`` into the recipient's inbox and return the outcome.

        :raises TransportFault: ``FS-NO-ENDPOINT`` (no endpoint folder), ``FS-IO``,
            ``FS-TIMEOUT`` (no outcome within ``response_timeout``; the message stays in the
            inbox and will still be processed), ``TRANSPORT-CLOSED``, or the receiver's fault.
        :raises SenderError: the checks before sending, or the receiver's refusal.
        :raises ReceiverError: the checks of the answer, or the receiver's error.
        """
        if self._closed.is_set():
            raise closed_fault("file-system transport")
        message = bytes(message)
        outgoing: OutgoingMessage | None = None
        if self.checks is not None:
            outgoing = (
                self.checks.check_outgoing(message, recipient)
                if self.check_outgoing
                else read_outgoing(message, limits=self.checks.limits)
            )
        endpoint = self.endpoint_folder(recipient)
        if not all((endpoint / name).is_dir() for name in (INBOX, OUTBOX, TMP)):
            raise TransportFault(
                f"participant {recipient.guid} has no endpoint folder at {endpoint}",
                code="FS-NO-ENDPOINT",
                message_bg=f"Участник {recipient.guid} няма папка за обмен в {endpoint}",
            )
        name = _message_name(message, outgoing)
        try:
            if self.certificate is not None:
                pem = self.certificate.public_bytes(_PEM)
                _atomic_write(endpoint, INBOX, name + _CERTIFICATE_SUFFIX, pem, self.file_mode)
            _atomic_write(endpoint, INBOX, name + _MESSAGE_SUFFIX, message, self.file_mode)
        except OSError as error:
            raise _io_fault("written to the inbox", error) from error
        if self.response_timeout is None:
            return Outcome(None)
        result = self._wait(endpoint / OUTBOX / (name + _RESULT_SUFFIX))
        outcome = _decode_result(result)
        if outcome.response is not None and self.checks is not None and outgoing is not None:
            self.checks.check_response(outcome.response, outgoing, recipient)
        return outcome

    def _wait(self, path: Path) -> bytes:
        assert self.response_timeout is not None
        deadline = time.monotonic() + self.response_timeout
        while True:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                pass
            except OSError as error:
                raise _io_fault("answered", error) from error
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
                return data
            if self._closed.wait(min(self.poll_interval, max(deadline - time.monotonic(), 0))):
                raise closed_fault("file-system transport")
            if time.monotonic() >= deadline:
                raise TransportFault(
                    f"no outcome within {self.response_timeout} s; the message stays in the "
                    "inbox and will be processed later",
                    code="FS-TIMEOUT",
                    message_bg=f"Няма резултат в рамките на {self.response_timeout} s; "
                    "съобщението остава във входящата папка",
                )

    def close(self) -> None:
        """Refuse further sends and stop waiting for outcomes (idempotent)."""
        self._closed.set()


def _encode_result(kind: _Kind, response: bytes | None = None, error: Any = None) -> bytes:
    document: dict[str, Any] = {"version": _RESULT_VERSION, "outcome": kind}
    if response is not None:
        document["response"] = base64.b64encode(response).decode("ascii")
    if isinstance(error, TransportError):
        document.update(code=error.code, message=error.message, message_bg=error.message_bg)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _decode_result(data: bytes) -> Outcome:
    try:
        document = json.loads(data)
        kind = document["outcome"]
        if kind == "empty":
            return Outcome(None)
        if kind == "response":
            return Outcome(base64.b64decode(document["response"], validate=True))
        error_class = _ERRORS[kind]
        code, message, message_bg = document["code"], document["message"], document["message_bg"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise ReceiverError(
            f"the receiving side wrote an unreadable outcome: {error}",
            code="FS-RESULT",
            message_bg="Получаващата страна записа нечетим резултат",
        ) from None
    raise error_class(str(message), code=str(code), message_bg=str(message_bg))


@dataclass(frozen=True, slots=True)
class _Processed:
    name: str
    kind: _Kind


class FileSystemEndpoint:
    """The receiving side: hands inbox files to ``receiver`` and records each outcome.

    :param directory: the endpoint folder (created with :func:`create_endpoint` if missing).
    :param receiver: what processes each message (e.g. the receiving pipeline).
    :param use_certificate_files: pass the certificate a sender wrote next to its message as
        ``client_certificate`` (the folder's permissions are the authentication); when false,
        receivers get ``None``.
    :param max_message_bytes: larger inbox files are refused (``FS-TOO-LARGE``) unread.
    :param file_mode: permissions of the written outcome files.
    :raises PermissionError: the inbox is writable by other users.

    One endpoint processes one message at a time; several processes may share a folder
    (each pass holds an exclusive lock on ``.lock``).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        receiver: Receiver,
        *,
        use_certificate_files: bool = True,
        max_message_bytes: int = 64 * _MIB,
        file_mode: int = 0o600,
    ) -> None:
        self.directory = create_endpoint(directory)
        inbox_mode = (self.directory / INBOX).stat().st_mode
        if sys.platform != "win32" and inbox_mode & stat.S_IWOTH:
            raise PermissionError(
                f"{self.directory / INBOX} is writable by every user; restrict it (chmod o-w)"
            )
        self.receiver = receiver
        self.use_certificate_files = use_certificate_files
        self.max_message_bytes = max_message_bytes
        self.file_mode = file_mode
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pending(self) -> list[Path]:
        """The inbox messages waiting, oldest first."""
        files = [p for p in (self.directory / INBOX).glob("*" + _MESSAGE_SUFFIX) if p.is_file()]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def process_pending(self) -> int:
        """Process every message in the inbox once; return how many were processed."""
        return self._pass(None)

    def _pass(self, stop: threading.Event | None) -> int:
        count = 0
        with self._locked():
            for path in self.pending():
                if stop is not None and stop.is_set():
                    break
                if self._process(path) is not None:
                    count += 1
        return count

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, self.file_mode)
        try:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _process(self, path: Path) -> _Processed | None:
        name = path.name.removesuffix(_MESSAGE_SUFFIX)
        certificate_path = path.with_name(name + _CERTIFICATE_SUFFIX)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None  # taken by another process between listing and now
        kind: _Kind
        response: bytes | None = None
        error: TransportError | None = None
        if size > self.max_message_bytes:
            kind, error = (
                "sender",
                SenderError(
                    f"the message has {size} bytes, more than the limit of "
                    f"{self.max_message_bytes}",
                    code="FS-TOO-LARGE",
                    message_bg=f"Съобщението е {size} байта, повече от допустимите "
                    f"{self.max_message_bytes}",
                ),
            )
        else:
            message = path.read_bytes()
            certificate = self._certificate(certificate_path)
            try:
                answer = answer_bytes(self.receiver(message, client_certificate=certificate))
            except TransportFault as exc:
                kind, error = "fault", exc
            except SenderError as exc:
                kind, error = "sender", exc
            except ReceiverError as exc:
                kind, error = "receiver", exc
            except TransportError as exc:
                kind, error = "fault", TransportFault(exc.message, code=exc.code)
            except Exception as exc:
                kind, error = "fault", receiver_crash(exc)
            else:
                if answer is None:
                    kind = "empty"
                else:
                    kind, response = "response", answer
        result = _encode_result(kind, response, error)
        _atomic_write(self.directory, OUTBOX, name + _RESULT_SUFFIX, result, self.file_mode)
        target = PROCESSED if kind in ("empty", "response") else FAILED
        for source in (certificate_path, path):
            with contextlib.suppress(FileNotFoundError):
                os.replace(source, self.directory / target / source.name)
        _fsync_directory(self.directory / target)
        _fsync_directory(self.directory / INBOX)
        return _Processed(name, kind)

    def _certificate(self, path: Path) -> x509.Certificate | None:
        if not self.use_certificate_files:
            return None
        try:
            return x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            return None

    def run(self, *, poll_interval: float = 0.01) -> None:
        """Process messages until :meth:`stop` is called (blocking)."""
        while not self._stop.is_set():
            try:
                handled = self._pass(self._stop)
            except Exception:  # a full disk, a folder removed: log, wait, try again
                _log.exception("the file-system endpoint %s failed; retrying", self.directory)
                handled = 0
            if handled == 0:
                self._stop.wait(poll_interval)

    def start(self, *, poll_interval: float = 0.01) -> None:
        """Run :meth:`run` in a background (daemon) thread."""
        if self._thread is not None:
            raise RuntimeError("the endpoint is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run,
            kwargs={"poll_interval": poll_interval},
            name=f"eintegr-fs-endpoint-{self.directory.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the background thread after the message in hand (idempotent)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
