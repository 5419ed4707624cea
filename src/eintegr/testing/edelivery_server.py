"""A local ССЕВ (secure e-delivery) integration service for tests, demos and trials.

:class:`EDeliveryServer` is an ASGI application that speaks the integration contract
(:mod:`eintegr.messages.edelivery`) the way the state's service does — SOAP 1.1, MTOM
requests and answers, WCF-style faults — and keeps registered subjects and messages in
memory. It checks the WS-Security header of every request for real
(:func:`~eintegr.transport.wssecurity.verify_envelope`): the signature over the timestamp,
the timestamp's freshness (and that it is not replayed), and that the signing certificate's
thumbprint belongs to a registered institution, which is the caller. Institutions may
register a callback URL: the server POSTs a
:class:`~eintegr.messages.edelivery.PushNotification` to it when a message arrives for them
(``Received``) and when a message they sent is opened (``Delivered``)::

    server = EDeliveryServer()
    server.register_institution("Община Пример", "000695235", certificate=dms.certificate)
    server.register_person("7501020018", "Иван", "Петров")
    with server.run(tls=server_certificate) as running:
        client = EDeliveryClient(running.url, dms.signer(), verify=ca_file)
        message_id = client.send_electronic_document(...)
        server.open_message(message_id)        # the citizen opens it on the portal

:class:`NotificationInbox` is a tiny ASGI application collecting push notifications, to
stand for an institution's callback endpoint.

This is a test double: one process, memory only, no time-stamping authority (the
``TimeStampNRO``/``TimeStampNRD`` proofs are left out), no access codes, no statistics.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from lxml import etree

from eintegr.errors import EintegrError, MessageError, SoapError, VerificationError, XmlError
from eintegr.messages.edelivery import (
    DcDocument,
    DcInstitutionInfo,
    DcLegalPersonInfo,
    DcLegalPersonRegistrationInfo,
    DcLogin,
    DcMessage,
    DcMessageDetails,
    DcPartialListOfDcMessage,
    DcPersonInfo,
    DcPersonRegistrationInfo,
    DcProfile,
    DcRegisteredSubjectInfo,
    DcSubjectInfo,
    DcSubjectRegistrationInfo,
    DcSubjectShortInfo,
    EventType,
    Operation,
    ProfileType,
    PushNotification,
    SortColumn,
    SortOrder,
    build_response,
    parse_request,
)
from eintegr.signing.policy import VerificationPolicy
from eintegr.transport.asgi_server import (
    BackgroundServer,
    CertificateSource,
    acknowledge_lifespan,
    server_ssl_context,
)
from eintegr.transport.edelivery import BINARY_ELEMENTS, MAX_MESSAGE_BYTES
from eintegr.transport.mtom import MtomLimits, decode_soap_body, encode_mtom
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, SOAP11_NS, SoapFault, build_fault
from eintegr.transport.wssecurity import (
    DEFAULT_MAX_CLOCK_SKEW,
    CertificateThumbprints,
    certificate_thumbprint,
    verify_envelope,
)
from eintegr.xml import XmlLimits, parse_xml

__all__ = [
    "EDeliveryServer",
    "NotificationInbox",
    "NotificationRecord",
    "StoredDocument",
    "StoredMessage",
    "Subject",
]

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Any]
_Send = Callable[[MutableMapping[str, Any]], Any]

_SECURITY_FAILED = "An error occurred when verifying security for the message."
_MAX_LIST = 100  # GetSentMessagesList / GetReceivedMessagesList return at most 100 messages


@dataclass
class Subject:
    """A registered profile: a person, a legal person or an institution."""

    profile_type: ProfileType
    identifier: str
    name: str
    profile_id: int
    electronic_subject_id: uuid.UUID = field(default_factory=uuid.uuid4)
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    activated: bool = True
    thumbprints: set[str] = field(default_factory=set)
    operators: set[str] = field(default_factory=set)
    callback_url: str | None = None
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def profile(self) -> DcProfile:
        """The subject as a ``DcProfile``."""
        return DcProfile(
            date_created=self.date_created,
            electronic_subject_id=self.electronic_subject_id,
            electronic_subject_name=self.name,
            email=self.email,
            id=self.profile_id,
            is_default=True,
            phone=self.phone,
            profile_type=self.profile_type,
        )


@dataclass
class StoredDocument:
    """A document delivered with a message."""

    id: int
    name: str
    content: bytes
    registration_number: str | None = None
    content_type: str | None = None

    def contract(self, *, with_content: bool) -> DcDocument:
        """The document as a ``DcDocument`` (with or without its bytes)."""
        return DcDocument(
            content=self.content if with_content else None,
            content_type=self.content_type,
            document_name=self.name,
            document_registration_number=self.registration_number,
            id=self.id,
        )


@dataclass
class StoredMessage:
    """A message kept by the server."""

    id: int
    sender: Subject
    receiver: Subject
    sent_by: Subject
    title: str
    text: str | None
    documents: list[StoredDocument]
    date_sent: datetime
    date_received: datetime | None = None
    reply_to: int | None = None
    service_oid: str | None = None
    operator: str | None = None

    def contract(self, *, details: bool = False, with_content: bool = False) -> DcMessageDetails:
        """The message as a ``DcMessage``/``DcMessageDetails``."""
        login = DcLogin(
            electronic_subject_id=self.sent_by.electronic_subject_id,
            electronic_subject_name=self.sent_by.name,
            id=self.sent_by.profile_id,
            is_active=True,
            certificate_thumbprint=next(iter(sorted(self.sent_by.thumbprints)), None),
        )
        common: dict[str, Any] = {
            "date_created": self.date_sent,
            "date_received": self.date_received,
            "date_sent": self.date_sent,
            "id": self.id,
            "is_draft": False,
            "receiver_profile": self.receiver.profile(),
            "sender_login": login,
            "sender_profile": self.sender.profile(),
            "title": self.title,
        }
        if not details:
            return DcMessageDetails(**common)
        return DcMessageDetails(
            **common,
            attached_documents=[d.contract(with_content=with_content) for d in self.documents],
            message_text=self.text,
        )


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A push notification the server tried to deliver, and how it went."""

    url: str
    notification: PushNotification
    status: int | None
    error: str | None


class _Fault(Exception):
    """A refusal answered as a SOAP fault (the service's ``FaultException(message)``)."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.code = code


def _message_only(params: dict[str, object]) -> DcMessageDetails:
    message = params.get("message")
    if (
        not isinstance(message, DcMessageDetails)
        or not message.title
        or (not message.message_text and not message.attached_documents)
    ):
        raise _Fault(
            "Message does not have all required fields: Title, Text or at least one Attached "
            "Document"
        )
    return message


def _file_name_ok(name: str | None) -> bool:
    if not name:
        return False
    stem, dot, extension = name.rpartition(".")
    return bool(dot and stem and extension)


class EDeliveryServer:
    """An in-memory ССЕВ integration service (an ASGI 3 application).

    :param max_clock_skew: the clock difference tolerated in request timestamps.
    :param max_request_bytes: the largest request accepted (the service's 50 MiB by default).
    :param notification_timeout: seconds allowed for each push-notification POST.
    :param notification_verify: TLS trust for ``https://`` callback URLs (``True``: the
        system store; a CA file; an :class:`ssl.SSLContext`).
    """

    def __init__(
        self,
        *,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
        max_request_bytes: int = MAX_MESSAGE_BYTES,
        notification_timeout: float = 5.0,
        notification_verify: Any = True,
    ) -> None:
        self._lock = threading.RLock()
        self._skew = max_clock_skew
        self._max_request = max_request_bytes
        self._subjects: list[Subject] = []
        self._messages: dict[int, StoredMessage] = {}
        self._next_message = 1
        self._next_document = 1
        self._next_profile = 1
        self._seen_signatures: dict[bytes, datetime] = {}
        self._notify_timeout = notification_timeout
        self._notify_verify = notification_verify
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._notifications: list[NotificationRecord] = []
        self.requests = 0
        """How many HTTP requests reached the application."""

    # --- registration ---------------------------------------------------------------------

    def _add(self, subject: Subject) -> Subject:
        with self._lock:
            for other in self._subjects:
                if (
                    other.identifier == subject.identifier
                    and other.profile_type is subject.profile_type
                ):
                    raise ValueError(
                        f"a {subject.profile_type.value} with {subject.identifier} is registered"
                    )
            self._subjects.append(subject)
        return subject

    def _profile_id(self) -> int:
        with self._lock:
            value = self._next_profile
            self._next_profile += 1
            return value

    def register_institution(
        self,
        name: str,
        eik: str,
        *,
        certificate: x509.Certificate | str | None = None,
        callback_url: str | None = None,
        operators: Iterable[str] = (),
        email: str | None = None,
        phone: str | None = None,
    ) -> Subject:
        """Register an institution; ``certificate`` (or its SHA-1 thumbprint) is the one its
        document-management system signs requests with; ``operators`` are the ЕГН of the
        employees who may act for it."""
        thumbprints = set()
        if isinstance(certificate, x509.Certificate):
            thumbprints.add(certificate_thumbprint(certificate))
        elif certificate is not None:
            thumbprints.add(next(iter(CertificateThumbprints([certificate]).thumbprints)))
        return self._add(
            Subject(
                ProfileType.Institution,
                eik,
                name,
                self._profile_id(),
                email=email,
                phone=phone,
                thumbprints=thumbprints,
                operators=set(operators),
                callback_url=callback_url,
            )
        )

    def register_person(
        self,
        identifier: str,
        first_name: str,
        last_name: str,
        *,
        email: str | None = None,
        phone: str | None = None,
    ) -> Subject:
        """Register a person with ЕГН or ЛНЧ ``identifier``."""
        return self._add(
            Subject(
                ProfileType.Person,
                identifier,
                f"{first_name} {last_name}",
                self._profile_id(),
                email=email,
                phone=phone,
                first_name=first_name,
                last_name=last_name,
            )
        )

    def register_legal_person(
        self,
        eik: str,
        name: str,
        *,
        representatives: Iterable[str] = (),
        email: str | None = None,
        phone: str | None = None,
    ) -> Subject:
        """Register a legal person; ``representatives`` are the ЕГН of people acting for it."""
        return self._add(
            Subject(
                ProfileType.LegalPerson,
                eik,
                name,
                self._profile_id(),
                email=email,
                phone=phone,
                operators=set(representatives),
            )
        )

    @property
    def subjects(self) -> list[Subject]:
        """The registered subjects."""
        with self._lock:
            return list(self._subjects)

    @property
    def messages(self) -> list[StoredMessage]:
        """The messages, oldest first."""
        with self._lock:
            return list(self._messages.values())

    @property
    def notifications(self) -> list[NotificationRecord]:
        """The push notifications attempted so far (see :meth:`wait_for_notifications`)."""
        with self._lock:
            return list(self._notifications)

    def open_message(self, message_id: int) -> StoredMessage:
        """The receiver opens the message (as on the portal): it is delivered now, and the
        sender is notified (``Delivered``)."""
        with self._lock:
            message = self._messages.get(message_id)
            if message is None:
                raise KeyError(message_id)
            self._deliver(message)
            return message

    # --- lookups --------------------------------------------------------------------------

    def _find(self, kind: ProfileType | None, identifier: str) -> Subject | None:
        for subject in self._subjects:
            if subject.identifier == identifier and (kind is None or subject.profile_type is kind):
                return subject
        return None

    def _receiver(self, kind: object, identifier: object) -> Subject:
        if not isinstance(identifier, str) or not identifier:
            raise _Fault("Receiver is missing")
        if not isinstance(kind, ProfileType):
            raise _Fault("Receiver type is missing")
        subject = self._find(kind, identifier)
        if subject is None:
            raise _Fault(f"No {kind.value} profile with identifier {identifier} is registered")
        return subject

    def _caller(self, thumbprint: str) -> Subject:
        for subject in self._subjects:
            if thumbprint in subject.thumbprints:
                return subject
        raise _Fault("Invalid client certificate")  # verified against the same set: unreachable

    def _check_operator(self, caller: Subject, operator: object) -> str | None:
        if operator is None or operator == "":
            return None
        if not isinstance(operator, str) or operator not in caller.operators:
            raise _Fault("Unauthorized operator")
        return operator

    # --- storage --------------------------------------------------------------------------

    def _documents(
        self, items: Iterable[tuple[str | None, bytes | None, str | None, str | None]]
    ) -> list[StoredDocument]:
        documents = []
        for name, content, registration, content_type in items:
            if not content:
                raise _Fault("Document bytes must be provided")
            if not _file_name_ok(name):
                raise _Fault("Document name with extension is missing or in invalid format")
            assert name is not None
            documents.append(
                StoredDocument(self._next_document, name, content, registration, content_type)
            )
            self._next_document += 1
        return documents

    def _store(
        self,
        *,
        sender: Subject,
        receiver: Subject,
        sent_by: Subject,
        title: str,
        text: str | None,
        documents: list[StoredDocument],
        reply_to: int | None = None,
        service_oid: object = None,
        operator: str | None = None,
    ) -> int:
        message = StoredMessage(
            self._next_message,
            sender,
            receiver,
            sent_by,
            title,
            text,
            documents,
            datetime.now(UTC),
            reply_to=reply_to,
            service_oid=service_oid if isinstance(service_oid, str) else None,
            operator=operator,
        )
        self._messages[message.id] = message
        self._next_message += 1
        self._notify(receiver, EventType.Received, message)
        return message.id

    def _deliver(self, message: StoredMessage) -> None:
        if message.date_received is None:
            message.date_received = datetime.now(UTC)
            self._notify(message.sent_by, EventType.Delivered, message)

    # --- push notifications ---------------------------------------------------------------

    def _notify(self, subject: Subject, event: EventType, message: StoredMessage) -> None:
        url = subject.callback_url
        if not url:
            return
        notification = PushNotification.now(event, message.id, subject.electronic_subject_id)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="edelivery-push")
        self._pending.append(self._executor.submit(self._post_notification, url, notification))

    def _post_notification(self, url: str, notification: PushNotification) -> None:
        status: int | None = None
        error: str | None = None
        try:
            with httpx.Client(
                verify=self._notify_verify, timeout=self._notify_timeout, trust_env=False
            ) as http:
                response = http.post(
                    url,
                    content=notification.to_json(),
                    headers={"Content-Type": "application/json"},
                )
                status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._notifications.append(NotificationRecord(url, notification, status, error))

    def wait_for_notifications(self, timeout: float = 10.0) -> list[NotificationRecord]:
        """Wait (at most ``timeout`` seconds) until every notification so far was attempted."""
        with self._lock:
            pending = list(self._pending)
        wait_futures(pending, timeout=timeout)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()]
        return self.notifications

    def close(self) -> None:
        """Finish pending notifications and stop the notification threads."""
        self.wait_for_notifications()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # --- running --------------------------------------------------------------------------

    @contextmanager
    def run(
        self, *, tls: CertificateSource | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> Iterator[BackgroundServer]:
        """Serve on ``host`` (a free port by default) in a background thread, over HTTPS with
        ``tls`` (a certificate and key, e.g. an :class:`~eintegr.signing.pki.Issued`); stop
        and finish pending notifications on exit."""
        context = server_ssl_context(tls) if tls is not None else None
        background = BackgroundServer(self, host=host, port=port, ssl_context=context)
        background.start()
        try:
            yield background
        finally:
            background.stop()
            self.close()

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI 3 entry point."""
        if scope["type"] == "lifespan":
            await acknowledge_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self.requests += 1
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST":
            await _respond(send, 405, "text/plain", b"POST a SOAP request")
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_request:
            await _respond(send, 413, "text/plain", b"Request Entity Too Large")
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            chunk = event.get("body", b"")
            total += len(chunk)
            if total > self._max_request:
                await _respond(send, 413, "text/plain", b"Request Entity Too Large")
                return
            chunks.append(chunk)
            if not event.get("more_body", False):
                break
        status, content_type, body = await asyncio.to_thread(
            self.handle, b"".join(chunks), headers.get("content-type"), headers.get("soapaction")
        )
        await _respond(send, status, content_type, body)

    def handle(
        self, body: bytes, content_type: str | None, soap_action: str | None = None
    ) -> tuple[int, str, bytes]:
        """Answer one request: ``(HTTP status, Content-Type, body)``."""
        try:
            envelope = decode_soap_body(
                body, content_type, limits=MtomLimits(max_bytes=max(self._max_request, 1))
            )
            tree = parse_xml(envelope, limits=XmlLimits(max_bytes=max(len(envelope), 1)))
        except (SoapError, XmlError) as exc:
            return _fault(f"The message cannot be read: {exc}")
        root = tree.getroot()
        body_element = root.find(f"{{{SOAP11_NS}}}Body")
        entries = (
            [] if body_element is None else [c for c in body_element if isinstance(c.tag, str)]
        )
        if root.tag != f"{{{SOAP11_NS}}}Envelope" or len(entries) != 1:
            return _fault("The message is not a SOAP 1.1 envelope with one body entry")
        try:
            verified = self._verify(tree)
        except VerificationError as exc:
            return _fault(f"{_SECURITY_FAILED} ({exc.code}: {exc})")
        try:
            operation, params = parse_request(entries[0])
        except MessageError as exc:
            return _fault(str(exc))
        if soap_action is not None and soap_action.strip().strip('"') not in ("", operation.action):
            return _fault(f"The SOAPAction {soap_action!r} does not match {operation.name}")
        try:
            with self._lock:
                caller = self._caller(verified)
                result = self._dispatch(operation, caller, params)
            response = build_response(operation.name, result)
        except _Fault as fault:
            return _fault(str(fault), fault.code)
        except EintegrError as exc:  # a stored value the contract cannot carry
            return _fault(str(exc), "Server")
        out = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"s": SOAP11_NS})
        etree.SubElement(out, f"{{{SOAP11_NS}}}Body").append(response)
        data, mtom_type = encode_mtom(out, binary=BINARY_ELEMENTS)
        return 200, mtom_type, data

    def _verify(self, tree: etree._ElementTree) -> str:
        with self._lock:
            registered = [t for s in self._subjects for t in s.thumbprints]
        policy = VerificationPolicy(trust=CertificateThumbprints(registered))
        verified = verify_envelope(tree, policy, max_clock_skew=self._skew)
        now = datetime.now(UTC)
        with self._lock:
            for key, until in list(self._seen_signatures.items()):
                if until < now:
                    del self._seen_signatures[key]
            if verified.signature_value in self._seen_signatures:
                raise VerificationError(
                    "the signed timestamp was already used (a replayed request)",
                    code="WSS-REPLAY",
                    message_bg="Подписаният времеви печат вече е използван (повторена заявка)",
                )
            self._seen_signatures[verified.signature_value] = verified.expires + self._skew
        return verified.thumbprint

    # --- operations -----------------------------------------------------------------------

    def _dispatch(self, operation: Operation, caller: Subject, params: dict[str, object]) -> object:
        handler = getattr(self, f"_op_{operation.name}", None)
        if handler is None:
            raise _Fault(f"{operation.name} is not supported by the local server", "Server")
        operator = self._check_operator(caller, params.get("operatorEGN"))
        return handler(caller, params, operator)

    def _sent(self, caller: Subject, message_id: object) -> StoredMessage:
        message = self._messages.get(message_id) if isinstance(message_id, int) else None
        if message is None or message.sent_by is not caller:
            raise _Fault(f"Message {message_id} not found")
        return message

    def _received(self, caller: Subject, message_id: object) -> StoredMessage:
        message = self._messages.get(message_id) if isinstance(message_id, int) else None
        if message is None or message.receiver is not caller:
            raise _Fault(f"Message {message_id} not found")
        return message

    def _message_documents(self, message: DcMessageDetails) -> list[StoredDocument]:
        return self._documents(
            (d.document_name, d.content, d.document_registration_number, d.content_type)
            for d in message.attached_documents or []
        )

    def _on_behalf_sender(self, params: dict[str, object]) -> Subject:
        kind = params.get("senderType")
        identifier = params.get("senderUniqueIdentifier")
        if not isinstance(identifier, str) or not identifier or not isinstance(kind, ProfileType):
            raise _Fault("Sender is missing")
        subject = self._find(kind, identifier)
        if subject is None:
            raise _Fault(f"No {kind.value} profile with identifier {identifier} is registered")
        return subject

    def _op_GetRegisteredInstitutions(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> list[DcInstitutionInfo]:
        return [
            DcInstitutionInfo(
                electronic_subject_id=s.electronic_subject_id,
                electronic_subject_name=s.name,
                email=s.email,
                is_activated=s.activated,
                phone_number=s.phone,
                profile_type=s.profile_type,
                unique_subject_identifier=s.identifier,
                name=s.name,
            )
            for s in self._subjects
            if s.profile_type is ProfileType.Institution
        ]

    def _op_SendElectronicDocument(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        content = params.get("docBytes")
        name = params.get("docNameWithExtension")
        documents = self._documents(
            [
                (
                    name if isinstance(name, str) else None,
                    content if isinstance(content, bytes) else None,
                    _str(params.get("docRegNumber")),
                    None,
                )
            ]
        )
        receiver = self._receiver(
            params.get("receiverType"), params.get("receiverUniqueIdentifier")
        )
        return self._store(
            sender=caller,
            receiver=receiver,
            sent_by=caller,
            title=_str(params.get("subject")) or "",
            text=None,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _op_SendElectronicDocumentOnBehalfOf(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        sender = self._on_behalf_sender(params)
        content = params.get("docBytes")
        name = params.get("docNameWithExtension")
        documents = self._documents(
            [
                (
                    name if isinstance(name, str) else None,
                    content if isinstance(content, bytes) else None,
                    _str(params.get("docRegNumber")),
                    None,
                )
            ]
        )
        receiver = self._receiver(
            params.get("receiverType"), params.get("receiverUniqueIdentifier")
        )
        return self._store(
            sender=sender,
            receiver=receiver,
            sent_by=caller,
            title=_str(params.get("subject")) or "",
            text=None,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _op_SendMessage(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        message = _message_only(params)
        documents = self._message_documents(message)
        receiver = self._receiver(
            params.get("receiverType"), params.get("receiverUniqueIdentifier")
        )
        return self._store(
            sender=caller,
            receiver=receiver,
            sent_by=caller,
            title=message.title or "",
            text=message.message_text,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _op_SendMessageInReplyTo(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        message = _message_only(params)
        original = self._received(caller, params.get("replyToMessageId"))
        documents = self._message_documents(message)
        return self._store(
            sender=caller,
            receiver=original.sender,
            sent_by=caller,
            title=message.title or "",
            text=message.message_text,
            documents=documents,
            reply_to=original.id,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _op_SendMessageOnBehalfOf(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        message = _message_only(params)
        sender = self._on_behalf_sender(params)
        documents = self._message_documents(message)
        receiver = self._receiver(
            params.get("receiverType"), params.get("receiverUniqueIdentifier")
        )
        return self._store(
            sender=sender,
            receiver=receiver,
            sent_by=caller,
            title=message.title or "",
            text=message.message_text,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _on_behalf_institution(self, params: dict[str, object], operator: str | None) -> Subject:
        if operator is None:
            raise _Fault(
                "Parameter operatorEGN is required! The operatorEGN should be the "
                "personalIdentifier of a person with active registration in the Edelivery "
                "System and with access to the sender's profile!"
            )
        identifier = params.get("senderUniqueIdentifier")
        sender = (
            self._find(ProfileType.Institution, identifier) if isinstance(identifier, str) else None
        )
        if sender is None:
            raise _Fault("Sender is missing")
        if operator not in sender.operators:
            raise _Fault("Unauthorized operator")
        return sender

    def _op_SendMessageOnBehalfToPerson(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        message = _message_only(params)
        sender = self._on_behalf_institution(params, operator)
        identifier = params.get("receiverUniqueIdentifier")
        if not isinstance(identifier, str) or not identifier:
            raise _Fault("Receiver is missing")
        receiver = self._find(ProfileType.Person, identifier)
        if receiver is None:  # the service creates a profile the person activates later
            first = _str(params.get("receiverFirstName")) or ""
            last = _str(params.get("receiverLastName")) or ""
            receiver = Subject(
                ProfileType.Person,
                identifier,
                f"{first} {last}".strip() or identifier,
                self._profile_id(),
                email=_str(params.get("receiverEmail")),
                phone=_str(params.get("receiverPhone")),
                first_name=first or None,
                last_name=last or None,
                activated=False,
            )
            self._subjects.append(receiver)
        documents = self._message_documents(message)
        return self._store(
            sender=sender,
            receiver=receiver,
            sent_by=caller,
            title=message.title or "",
            text=message.message_text,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _op_SendMessageOnBehalfToLegalEntity(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> int:
        message = _message_only(params)
        sender = self._on_behalf_institution(params, operator)
        receiver = self._receiver(ProfileType.LegalPerson, params.get("receiverUniqueIdentifier"))
        documents = self._message_documents(message)
        return self._store(
            sender=sender,
            receiver=receiver,
            sent_by=caller,
            title=message.title or "",
            text=message.message_text,
            documents=documents,
            service_oid=params.get("serviceOID"),
            operator=operator,
        )

    def _by_registration_number(
        self, caller: Subject, number: object
    ) -> tuple[StoredMessage, StoredDocument]:
        for message in reversed(self._messages.values()):
            if message.sent_by is not caller:
                continue
            for document in message.documents:
                if number and document.registration_number == number:
                    return message, document
        raise _Fault(f"Document with registration number {number} not found")

    def _op_GetSentDocumentStatusByRegNum(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcMessageDetails:
        message, _ = self._by_registration_number(caller, params.get("documentRegistrationNumber"))
        return message.contract(details=True)

    def _op_GetSentDocumentContentByRegNum(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcDocument:
        _, document = self._by_registration_number(caller, params.get("documentRegistrationNumber"))
        return document.contract(with_content=True)

    def _op_GetSentDocumentsContent(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> list[DcDocument]:
        message = self._sent(caller, params.get("messageId"))
        return [d.contract(with_content=True) for d in message.documents]

    def _op_GetSentDocumentContent(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcDocument:
        wanted = params.get("documentId")
        for message in self._messages.values():
            if message.sent_by is caller:
                for document in message.documents:
                    if document.id == wanted:
                        return document.contract(with_content=True)
        raise _Fault(f"Document {wanted} not found")

    def _op_GetSentMessageStatus(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcMessageDetails:
        return self._sent(caller, params.get("messageId")).contract(details=True)

    def _op_GetSentMessageContent(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcMessageDetails:
        return self._sent(caller, params.get("messageId")).contract(details=True, with_content=True)

    def _outbox(self, caller: Subject) -> list[StoredMessage]:
        return [m for m in reversed(self._messages.values()) if m.sent_by is caller]

    def _inbox(self, caller: Subject, only_new: object) -> list[StoredMessage]:
        return [
            m
            for m in reversed(self._messages.values())
            if m.receiver is caller and not (only_new is True and m.date_received is not None)
        ]

    @staticmethod
    def _page(
        messages: Sequence[StoredMessage], params: dict[str, object]
    ) -> DcPartialListOfDcMessage:
        number = params.get("pageNumber")
        size = params.get("pageSize")
        limit = max(1, size if isinstance(size, int) else 1)
        offset = (max(1, number if isinstance(number, int) else 1) - 1) * limit
        return DcPartialListOfDcMessage(
            all_items_count=len(messages),
            items=[
                DcMessage(**m.contract().model_dump()) for m in messages[offset : offset + limit]
            ],
            sort_column=SortColumn.DateSent,
            sort_order=SortOrder.Desc,
        )

    def _op_GetSentMessagesList(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> list[DcMessage]:
        return [DcMessage(**m.contract().model_dump()) for m in self._outbox(caller)[:_MAX_LIST]]

    def _op_GetSentMessagesListPaged(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcPartialListOfDcMessage:
        return self._page(self._outbox(caller), params)

    def _op_GetReceivedMessagesList(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> list[DcMessage]:
        messages = self._inbox(caller, params.get("onlyNew"))[:_MAX_LIST]
        return [DcMessage(**m.contract().model_dump()) for m in messages]

    def _op_GetReceivedMessagesListPaged(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcPartialListOfDcMessage:
        return self._page(self._inbox(caller, params.get("onlyNew")), params)

    def _op_GetReceivedMessageContent(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcMessageDetails:
        message = self._received(caller, params.get("messageId"))
        self._deliver(message)
        return message.contract(details=True, with_content=True)

    def _accessible(self, identifier: str) -> list[DcSubjectShortInfo]:
        return [
            DcSubjectShortInfo(eik=s.identifier, name=s.name, profile_type=s.profile_type)
            for s in self._subjects
            if identifier in s.operators
        ]

    def _op_CheckPersonHasRegistration(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcPersonRegistrationInfo:
        identifier = _str(params.get("personId")) or ""
        person = self._find(ProfileType.Person, identifier)
        registered = person is not None and person.activated
        return DcPersonRegistrationInfo(
            accessible_profiles=self._accessible(identifier) if registered else [],
            has_registration=registered,
            person_identificator=identifier,
        )

    def _op_CheckLegalPersonHasRegistration(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcLegalPersonRegistrationInfo:
        eik = _str(params.get("eik")) or ""
        company = self._find(ProfileType.LegalPerson, eik)
        if company is None:
            return DcLegalPersonRegistrationInfo(eik=eik, has_registration=False)
        return DcLegalPersonRegistrationInfo(
            eik=eik,
            email=company.email,
            has_registration=True,
            name=company.name,
            phone=company.phone,
            profiles_with_access=[
                DcSubjectShortInfo(eik=p.identifier, name=p.name, profile_type=p.profile_type)
                for p in self._subjects
                if p.profile_type is ProfileType.Person and p.identifier in company.operators
            ],
        )

    def _op_CheckSubjectHasRegistration(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcSubjectRegistrationInfo:
        identifier = _str(params.get("identificator")) or ""
        subject = self._find(None, identifier)
        if subject is None or not subject.activated:
            return DcSubjectRegistrationInfo(has_registration=False, identificator=identifier)
        return DcSubjectRegistrationInfo(
            has_registration=True,
            identificator=identifier,
            subject_info=DcRegisteredSubjectInfo(
                electronic_subject_id=subject.electronic_subject_id,
                electronic_subject_name=subject.name,
                email=subject.email,
                is_activated=subject.activated,
                phone_number=subject.phone,
                profile_type=subject.profile_type,
            ),
        )

    def _op_GetSubjectInfo(
        self, caller: Subject, params: dict[str, object], operator: str | None
    ) -> DcSubjectInfo:
        wanted = params.get("electronicSubjectId")
        for s in self._subjects:
            if s.electronic_subject_id == wanted:
                common: dict[str, Any] = {
                    "electronic_subject_id": s.electronic_subject_id,
                    "electronic_subject_name": s.name,
                    "email": s.email,
                    "is_activated": s.activated,
                    "phone_number": s.phone,
                    "profile_type": s.profile_type,
                    "unique_subject_identifier": s.identifier,
                }
                if s.profile_type is ProfileType.Person:
                    return DcPersonInfo(**common, first_name=s.first_name, last_name=s.last_name)
                if s.profile_type is ProfileType.LegalPerson:
                    return DcLegalPersonInfo(**common, company_name=s.name)
                return DcInstitutionInfo(**common, name=s.name)
        raise _Fault(f"Electronic subject {wanted} not found")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _fault(message: str, code: str = "Client") -> tuple[int, str, bytes]:
    return 500, SOAP11_CONTENT_TYPE, build_fault(SoapFault(code, message))


async def _respond(send: _Send, status: int, content_type: str, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NotificationInbox:
    """An ASGI application that collects push notifications (an institution's callback).

    >>> inbox = NotificationInbox()
    >>> inbox.received
    []
    """

    def __init__(self, *, max_bytes: int = 64 * 1024) -> None:
        self._max = max_bytes
        self._received: list[PushNotification] = []
        self._condition = threading.Condition()

    @property
    def received(self) -> list[PushNotification]:
        """The notifications received so far."""
        with self._condition:
            return list(self._received)

    def wait(self, count: int, timeout: float = 10.0) -> list[PushNotification]:
        """Wait (at most ``timeout`` seconds) until ``count`` notifications have arrived."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._received) >= count, timeout)
            return list(self._received)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI 3 entry point: POST a notification's JSON; 204 when accepted."""
        if scope["type"] == "lifespan":
            await acknowledge_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _respond(send, 405, "text/plain", b"POST a notification")
            return
        body = b""
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            body += event.get("body", b"")
            if len(body) > self._max:
                await _respond(send, 413, "text/plain", b"too large")
                return
            if not event.get("more_body", False):
                break
        try:
            notification = PushNotification.from_json(body)
        except MessageError as exc:
            await _respond(send, 400, "text/plain", str(exc).encode("utf-8"))
            return
        with self._condition:
            self._received.append(notification)
            self._condition.notify_all()
        await _respond(send, 204, "text/plain", b"")
