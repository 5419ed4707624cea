"""The ССЕВ (secure e-delivery) integration client: deliver documents to citizens, companies
and institutions with legal proof of delivery, and receive theirs.

The service is SOAP 1.1 over HTTPS, MTOM-encoded, authenticated by WS-Security: every
request carries a timestamp signed with the institution's registered X.509 certificate
(:mod:`eintegr.transport.wssecurity`), and every request and answer is an MTOM package
(:mod:`eintegr.transport.mtom`). The data contracts are in
:mod:`eintegr.messages.edelivery`::

    client = EDeliveryClient(TEST_ENDPOINT, load_pkcs12_signer(Path("edelivery.p12"), pw))
    if client.check_person_has_registration("7501020018").has_registration:
        message_id = client.send_electronic_document(
            subject="Решение № 12", content=pdf, file_name="reshenie.pdf",
            receiver_type=ProfileType.Person, receiver_id="7501020018",
        )
    status = client.get_sent_message_status(message_id)   # .date_received once opened

Before anything is sent the client checks what the service would refuse, and the service's
size limit — :data:`MAX_MESSAGE_BYTES` (50 MiB = 52,428,800 bytes: ``maxReceivedMessageSize``,
``maxRequestLength`` and ``maxAllowedContentLength`` of the integration service's
``Web.config`` in governmentbg/edelivery2022) for the whole encoded request. Invalid input is
a :class:`~eintegr.errors.MessageError` (``EDELIVERY-ARGUMENT``, ``EDELIVERY-SIZE``) or an
:class:`~eintegr.errors.IdentifierError`; nothing is sent then.

Failures of the exchange are :class:`~eintegr.errors.TransportError` subclasses:

* :class:`~eintegr.errors.SenderError` — the service refused the request (a SOAP fault:
  ``EDELIVERY-FAULT``; an HTTP 4xx: ``EDELIVERY-HTTP``): do not retry unchanged;
* :class:`~eintegr.errors.TransportFault` — a network failure, timeout, TLS failure, HTTP 5xx
  or server fault (``EDELIVERY-NETWORK``, ``EDELIVERY-TIMEOUT``, ``EDELIVERY-HTTP``,
  ``EDELIVERY-SERVER-FAULT``): retry later;
* :class:`~eintegr.errors.ReceiverError` — an answer that cannot be accepted (not SOAP, not
  the expected response, too large: ``EDELIVERY-RESPONSE``, ``EDELIVERY-RESPONSE-SIZE``).

TLS certificate verification is always on (the system's trust store, a CA bundle, or an
:class:`ssl.SSLContext`; TLS 1.2 or later), plain ``http://`` is refused unless
``allow_http=True`` (for a loopback test server only).
"""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Final, Self, cast

import httpx
from lxml import etree

from eintegr.errors import (
    EintegrError,
    IdentifierError,
    MessageError,
    ReceiverError,
    SenderError,
    SoapError,
    TransportFault,
)
from eintegr.identifiers import is_valid_egn, is_valid_eik, is_valid_lnch
from eintegr.messages.edelivery import (
    DC_NS,
    OPERATIONS,
    RECEIVER_TYPES,
    SERVICE_NS,
    DcDocument,
    DcInstitutionInfo,
    DcLegalPersonRegistrationInfo,
    DcMessage,
    DcMessageDetails,
    DcPartialListOfDcMessage,
    DcPersonRegistrationInfo,
    DcSubjectInfo,
    DcSubjectRegistrationInfo,
    ProfileType,
    build_request,
    parse_response,
)
from eintegr.signing.signer import Signer
from eintegr.transport.mtom import MtomLimits, decode_soap_body, encode_mtom
from eintegr.transport.soap import SOAP11_NS, SoapFault, parse_envelope
from eintegr.transport.wssecurity import DEFAULT_LIFETIME, add_security_header
from eintegr.xml import XmlLimits

__all__ = [
    "BINARY_ELEMENTS",
    "MAX_MESSAGE_BYTES",
    "PRODUCTION_ENDPOINT",
    "TEST_ENDPOINT",
    "EDeliveryClient",
    "EDeliveryLimits",
    "OnBehalfSender",
    "PersonReceiver",
    "fault_error",
]

TEST_ENDPOINT: Final = "https://edelivery-test.egov.bg/Services/EDeliveryIntegrationService.svc"
"""The test environment's integration service (the published WSDL's address)."""
PRODUCTION_ENDPOINT: Final = "https://edelivery.egov.bg/Services/EDeliveryIntegrationService.svc"
"""The production integration service."""

MAX_MESSAGE_BYTES: Final = 52_428_800
"""The largest request the service accepts, in bytes (50 MiB): ``maxReceivedMessageSize``,
``maxRequestLength`` (51200 KiB) and ``maxAllowedContentLength`` of the integration service's
configuration (governmentbg/edelivery2022, ``ED.IntegrationService/Web.config``)."""

BINARY_ELEMENTS: Final = frozenset(
    {f"{{{SERVICE_NS}}}docBytes", f"{{{DC_NS}}}Content", f"{{{DC_NS}}}TimeStampData"}
)
"""The ``base64Binary`` elements that travel as MTOM binary parts."""

_MIB = 1024 * 1024
_MIN_BINARY_PART = 1024
_SOAP_ENVELOPE = f"{{{SOAP11_NS}}}Envelope"


@dataclass(frozen=True, slots=True)
class EDeliveryLimits:
    """Explicit limits of one client.

    :param max_request_bytes: the largest encoded request (default :data:`MAX_MESSAGE_BYTES`).
    :param max_response_bytes: the largest answer read (streamed; a larger one is dropped).
    :param max_response_depth: the deepest element nesting accepted in an answer.
    """

    max_request_bytes: int = MAX_MESSAGE_BYTES
    max_response_bytes: int = 80 * _MIB
    max_response_depth: int = 256

    def __post_init__(self) -> None:
        if min(self.max_request_bytes, self.max_response_bytes, self.max_response_depth) < 1:
            raise ValueError("e-delivery limits must be positive")

    def mtom(self) -> MtomLimits:
        """The limits for reading an MTOM answer."""
        return MtomLimits(max_bytes=self.max_response_bytes, max_depth=self.max_response_depth)


@dataclass(frozen=True, slots=True)
class OnBehalfSender:
    """The person or company an institution sends on behalf of (``…OnBehalfOf`` operations).

    :param type: :attr:`ProfileType.Person` or :attr:`ProfileType.LegalPerson`.
    :param identifier: ЕГН/ЛНЧ of a person, ЕИК of a legal person.
    """

    type: ProfileType
    identifier: str
    phone: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True, slots=True)
class PersonReceiver:
    """A person receiving on behalf of whom nobody registered (``SendMessageOnBehalfToPerson``).

    :param identifier: ЕГН or ЛНЧ.
    """

    identifier: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _argument(en: str, bg: str) -> MessageError:
    return MessageError(en, code="EDELIVERY-ARGUMENT", message_bg=bg)


def fault_error(fault: SoapFault, operation: str) -> SenderError | TransportFault:
    """The exception for a SOAP fault the service answered ``operation`` with.

    A ``Server``/``Receiver`` fault is a :class:`~eintegr.errors.TransportFault`
    (``EDELIVERY-SERVER-FAULT``: retry later); every other fault — the service's validation
    and authorization refusals, WS-Security failures — is a
    :class:`~eintegr.errors.SenderError` (``EDELIVERY-FAULT``).
    """
    local = fault.code.rpartition(":")[2]
    text = fault.string or "(no reason given)"
    if local.startswith(("Server", "Receiver")):
        return TransportFault(
            f"{operation}: the e-delivery service failed ({fault.code}): {text}",
            code="EDELIVERY-SERVER-FAULT",
            message_bg=f"{operation}: грешка в ССЕВ ({fault.code}): {text}",
        )
    return SenderError(
        f"{operation}: the e-delivery service refused the request ({fault.code}): {text}",
        code="EDELIVERY-FAULT",
        message_bg=f"{operation}: ССЕВ отказа заявката ({fault.code}): {text}",
    )


def _network_fault(error: httpx.HTTPError, operation: str) -> TransportFault:
    if isinstance(error, httpx.TimeoutException):
        return TransportFault(
            f"{operation}: the e-delivery service did not answer in time ({type(error).__name__})",
            code="EDELIVERY-TIMEOUT",
            message_bg=f"{operation}: ССЕВ не отговори навреме",
        )
    return TransportFault(
        f"{operation}: cannot reach the e-delivery service: {error}",
        code="EDELIVERY-NETWORK",
        message_bg=f"{operation}: ССЕВ не е достъпна: {error}",
    )


def _response_error(
    operation: str, en: str, bg: str, code: str = "EDELIVERY-RESPONSE"
) -> ReceiverError:
    return ReceiverError(f"{operation}: {en}", code=code, message_bg=f"{operation}: {bg}")


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _required(value: str | None, en: str, bg: str) -> str:
    if value is None or not value.strip():
        raise _argument(f"{en} is required", f"{bg} е задължително")
    return value


def _check_identifier(kind: ProfileType, identifier: str, role: str) -> None:
    if kind is ProfileType.Person:
        if not (is_valid_egn(identifier) or is_valid_lnch(identifier)):
            raise IdentifierError(
                f"the {role} {identifier!r} is not a valid ЕГН or ЛНЧ",
                code="ID-EGN",
                message_bg=f"{identifier!r} не е валидно ЕГН или ЛНЧ",
            )
    elif not is_valid_eik(identifier):
        raise IdentifierError(
            f"the {role} {identifier!r} is not a valid ЕИК/БУЛСТАТ",
            code="ID-EIK",
            message_bg=f"{identifier!r} не е валиден ЕИК/БУЛСТАТ",
        )


def _profile_type(
    value: ProfileType | str, role: str, *, allowed: Sequence[ProfileType]
) -> ProfileType:
    try:
        kind = ProfileType(value)
    except ValueError:
        raise _argument(
            f"{value!r} is not a profile type ({', '.join(p.value for p in allowed)})",
            f"{value!r} не е вид профил",
        ) from None
    if kind not in allowed:
        raise _argument(
            f"the {role} cannot be of the type {kind.value}",
            f"{role} не може да е от вида {kind.value}",
        )
    return kind


def _check_file_name(name: str | None) -> str:
    name = _required(name, "the document name (with extension)", "Името на документа")
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension or not stem or "/" in name or "\\" in name:
        raise _argument(
            f"the document name {name!r} must be a file name with an extension",
            f"името на документа {name!r} трябва да е име на файл с разширение",
        )
    return name


def _check_size(total: int, limit: int) -> None:
    if total > limit:
        raise MessageError(
            f"the request would carry {total} bytes, more than the e-delivery limit of "
            f"{limit} bytes",
            code="EDELIVERY-SIZE",
            message_bg=f"заявката би съдържала {total} байта, над ограничението на ССЕВ "
            f"от {limit} байта",
        )


def _check_message(message: DcMessageDetails, limit: int) -> None:
    if not isinstance(message, DcMessageDetails):
        raise _argument(
            "the message must be a DcMessageDetails", "съобщението трябва да е DcMessageDetails"
        )
    _required(message.title, "the message title", "Заглавието на съобщението")
    documents = message.attached_documents or []
    if not (message.message_text and message.message_text.strip()) and not documents:
        raise _argument(
            "the message needs a text or at least one attached document",
            "съобщението трябва да има текст или поне един приложен документ",
        )
    total = 0
    for document in documents:
        _check_file_name(document.document_name)
        if not document.content:
            raise _argument(
                f"the document {document.document_name!r} has no content",
                f"документът {document.document_name!r} няма съдържание",
            )
        total += len(document.content)
    _check_size(total, limit)


def _check_page(page: int, page_size: int) -> None:
    if isinstance(page, bool) or isinstance(page_size, bool) or page < 1 or page_size < 1:
        raise _argument(
            "page numbers start at 1 and pages hold at least one item",
            "страниците се номерират от 1 и съдържат поне един елемент",
        )


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_type: str | None
    body: bytes


_RECEIVERS: Final = tuple(p for p in ProfileType if p in RECEIVER_TYPES)
_SENDERS: Final = (ProfileType.Person, ProfileType.LegalPerson)


def _ssl_context(verify: ssl.SSLContext | str | os.PathLike[str] | bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
            raise ValueError("the SSL context must verify certificates and host names")
        return verify
    if verify is False:
        raise ValueError(
            "TLS certificate verification cannot be turned off; give the CA bundle that "
            "issued the service's certificate instead"
        )
    if verify is True:
        context = ssl.create_default_context()
    else:
        context = ssl.create_default_context(cafile=os.fspath(verify))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class EDeliveryClient:
    """A client of ССЕВ's integration service, signing every request as one institution.

    :param url: the service endpoint (:data:`TEST_ENDPOINT`, :data:`PRODUCTION_ENDPOINT`, or
        a local server's URL).
    :param signer: the institution's registered certificate and key (see
        :func:`~eintegr.signing.load_pkcs12_signer`).
    :param verify: the TLS trust: ``True`` (the system's trust store), a CA bundle file, or
        an :class:`ssl.SSLContext` that verifies certificates and host names.
    :param timeout: seconds allowed to connect, and between bytes read or written.
    :param operator_egn: the ЕГН of the employee acting, sent as ``operatorEGN`` when a call
        gives none (the service then checks the person's access to the profile).
    :param limits: request and response size limits.
    :param timestamp_lifetime: how long each request's signed timestamp stays valid.
    :param check_identifiers: check the ЕГН/ЛНЧ/ЕИК check digits of receivers and senders
        before sending.
    :param allow_http: accept an ``http://`` URL (only for a local test server).
    :param transport: an httpx transport to send through (tests); the default opens HTTPS
        connections itself.
    :raises ValueError: an ``http://`` URL without ``allow_http``, or ``verify=False``.
    """

    def __init__(
        self,
        url: str,
        signer: Signer,
        *,
        verify: ssl.SSLContext | str | os.PathLike[str] | bool = True,
        timeout: float = 60.0,
        operator_egn: str | None = None,
        limits: EDeliveryLimits | None = None,
        timestamp_lifetime: timedelta = DEFAULT_LIFETIME,
        check_identifiers: bool = True,
        allow_http: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise ValueError(f"{url!r} is not an https:// URL")
        if parsed.scheme == "http" and not allow_http:
            raise ValueError(f"{url!r} is not encrypted; the e-delivery service needs https://")
        if timeout <= 0:
            raise ValueError("the timeout must be positive")
        self._url = url
        self._signer = signer
        self._operator_egn = operator_egn
        self._limits = limits or EDeliveryLimits()
        self._lifetime = timestamp_lifetime
        self._check_identifiers = check_identifiers
        self._http = httpx.Client(
            verify=_ssl_context(verify),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "eintegr-edelivery"},
        )

    # --- plumbing -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The service endpoint."""
        return self._url

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _operator(self, operator_egn: str | None) -> str | None:
        chosen = operator_egn if operator_egn is not None else self._operator_egn
        if (
            chosen is not None
            and self._check_identifiers
            and not (is_valid_egn(chosen) or is_valid_lnch(chosen))
        ):
            raise IdentifierError(
                f"the operator {chosen!r} is not a valid ЕГН or ЛНЧ",
                code="ID-EGN",
                message_bg=f"операторът {chosen!r} не е с валидно ЕГН или ЛНЧ",
            )
        return chosen

    def _identifier(self, kind: ProfileType, identifier: str, role: str) -> str:
        identifier = _required(identifier, f"the {role}'s identifier", "Идентификаторът")
        if self._check_identifiers:
            _check_identifier(kind, identifier, role)
        return identifier

    def _encode(self, operation: str, params: dict[str, object]) -> tuple[bytes, str]:
        request = build_request(operation, **params)
        envelope = etree.Element(_SOAP_ENVELOPE, nsmap={"s": SOAP11_NS})
        etree.SubElement(envelope, f"{{{SOAP11_NS}}}Header")
        etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body").append(request)
        add_security_header(envelope, self._signer, lifetime=self._lifetime)
        body, content_type = encode_mtom(
            envelope, binary=BINARY_ELEMENTS, min_size=_MIN_BINARY_PART
        )
        _check_size(len(body), self._limits.max_request_bytes)
        return body, content_type

    def _post(self, operation: str, body: bytes, content_type: str) -> _Answer:
        headers = {
            "Content-Type": content_type,
            "SOAPAction": f'"{OPERATIONS[operation].action}"',
            "MIME-Version": "1.0",
        }
        limit = self._limits.max_response_bytes
        try:
            with self._http.stream("POST", self._url, content=body, headers=headers) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise _response_error(
                        operation,
                        f"the answer has {declared} bytes, more than the limit of {limit}",
                        f"отговорът е {declared} байта, над ограничението от {limit}",
                        "EDELIVERY-RESPONSE-SIZE",
                    )
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > limit:
                        raise _response_error(
                            operation,
                            f"the answer is larger than the limit of {limit} bytes",
                            f"отговорът е по-голям от ограничението от {limit} байта",
                            "EDELIVERY-RESPONSE-SIZE",
                        )
                    chunks.append(chunk)
                return _Answer(
                    response.status_code, response.headers.get("Content-Type"), b"".join(chunks)
                )
        except httpx.HTTPError as error:
            raise _network_fault(error, operation) from error

    def _call(self, operation: str, **params: object) -> Any:
        body, content_type = self._encode(operation, params)
        response = self._post(operation, body, content_type)
        try:
            envelope_bytes = decode_soap_body(
                response.body, response.content_type, limits=self._limits.mtom()
            )
            envelope = parse_envelope(
                envelope_bytes,
                limits=XmlLimits(
                    max_bytes=max(len(envelope_bytes), 1),
                    max_depth=self._limits.max_response_depth,
                ),
            )
        except SoapError as exc:
            if response.status >= 500:
                raise TransportFault(
                    f"{operation}: HTTP {response.status} from the e-delivery service",
                    code="EDELIVERY-HTTP",
                    message_bg=f"{operation}: HTTP {response.status} от ССЕВ",
                ) from exc
            if response.status >= 400:
                raise SenderError(
                    f"{operation}: HTTP {response.status} from the e-delivery service",
                    code="EDELIVERY-HTTP",
                    message_bg=f"{operation}: HTTP {response.status} от ССЕВ",
                ) from exc
            raise _response_error(
                operation,
                f"the answer is not a SOAP envelope: {exc}",
                f"отговорът не е SOAP плик: {exc.message_bg}",
            ) from exc
        if envelope.fault is not None:
            raise fault_error(envelope.fault, operation)
        if response.status != 200:
            raise _response_error(
                operation,
                f"HTTP {response.status} without a SOAP fault",
                f"HTTP {response.status} без SOAP грешка",
            )
        try:
            return parse_response(operation, envelope.body_element)
        except EintegrError as exc:
            raise _response_error(
                operation,
                f"the answer does not fit the contract: {exc}",
                f"отговорът не отговаря на договора: {exc.message_bg}",
            ) from exc

    # --- registration checks --------------------------------------------------------------

    def get_registered_institutions(self) -> list[DcInstitutionInfo]:
        """Every institution registered in ССЕВ (``GetRegisteredInstitutions``)."""
        return cast(list[DcInstitutionInfo], self._call("GetRegisteredInstitutions"))

    def check_person_has_registration(self, person_id: str) -> DcPersonRegistrationInfo:
        """Whether the person with ЕГН/ЛНЧ ``person_id`` has a profile
        (``CheckPersonHasRegistration``)."""
        person_id = self._identifier(ProfileType.Person, person_id, "person")
        result = self._call("CheckPersonHasRegistration", personId=person_id)
        return result or DcPersonRegistrationInfo(person_identificator=person_id)

    def check_legal_person_has_registration(self, eik: str) -> DcLegalPersonRegistrationInfo:
        """Whether the legal person with ЕИК ``eik`` has a profile
        (``CheckLegalPersonHasRegistration``)."""
        eik = self._identifier(ProfileType.LegalPerson, eik, "legal person")
        result = self._call("CheckLegalPersonHasRegistration", eik=eik)
        return result or DcLegalPersonRegistrationInfo(eik=eik)

    def check_subject_has_registration(self, identifier: str) -> DcSubjectRegistrationInfo:
        """Whether any subject — person, legal person or institution — with ``identifier``
        (ЕГН, ЛНЧ or ЕИК) is registered (``CheckSubjectHasRegistration``)."""
        identifier = _required(identifier, "the identifier", "Идентификаторът")
        result = self._call("CheckSubjectHasRegistration", identificator=identifier)
        return result or DcSubjectRegistrationInfo(identificator=identifier)

    def check_institution_has_registration(self, eik: str) -> DcSubjectRegistrationInfo:
        """Whether the institution with ЕИК ``eik`` is registered
        (``CheckSubjectHasRegistration``)."""
        eik = self._identifier(ProfileType.Institution, eik, "institution")
        info = self.check_subject_has_registration(eik)
        if (
            info.has_registration
            and info.subject_info is not None
            and (info.subject_info.profile_type not in (None, ProfileType.Institution))
        ):
            return DcSubjectRegistrationInfo(identificator=eik, has_registration=False)
        return info

    def get_subject_info(
        self, electronic_subject_id: uuid.UUID, *, operator_egn: str | None = None
    ) -> DcSubjectInfo | None:
        """A subject by its electronic subject id (``GetSubjectInfo``): a
        :class:`~eintegr.messages.edelivery.DcPersonInfo`,
        :class:`~eintegr.messages.edelivery.DcLegalPersonInfo` or
        :class:`~eintegr.messages.edelivery.DcInstitutionInfo`."""
        if not isinstance(electronic_subject_id, uuid.UUID):
            raise _argument(
                "the electronic subject id must be a UUID", "идентификаторът трябва да е UUID"
            )
        return cast(
            DcSubjectInfo | None,
            self._call(
                "GetSubjectInfo",
                electronicSubjectId=electronic_subject_id,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    # --- sending --------------------------------------------------------------------------

    def send_electronic_document(
        self,
        *,
        subject: str,
        content: bytes,
        file_name: str,
        receiver_type: ProfileType | str,
        receiver_id: str,
        registration_number: str | None = None,
        receiver_phone: str | None = None,
        receiver_email: str | None = None,
        service_oid: str | None = None,
        operator_egn: str | None = None,
    ) -> int:
        """Deliver one document (``SendElectronicDocument``); returns the message id.

        :param subject: the message title the receiver sees.
        :param content: the document's bytes (not empty).
        :param file_name: its file name, with an extension (``reshenie.pdf``).
        :param receiver_type: Person, LegalPerson or Institution.
        :param receiver_id: ЕГН/ЛНЧ of a person, ЕИК of a legal person or institution.
        :param registration_number: the document's outgoing registration number.
        """
        kind = _profile_type(receiver_type, "receiver", allowed=_RECEIVERS)
        _required(subject, "the subject", "Заглавието")
        _check_file_name(file_name)
        if not content:
            raise _argument("the document has no content", "документът няма съдържание")
        _check_size(len(content), self._limits.max_request_bytes)
        return cast(
            int,
            self._call(
                "SendElectronicDocument",
                subject=subject,
                docBytes=bytes(content),
                docNameWithExtension=file_name,
                docRegNumber=registration_number,
                receiverType=kind,
                receiverUniqueIdentifier=self._identifier(kind, receiver_id, "receiver"),
                receiverPhone=receiver_phone,
                receiverEmail=receiver_email,
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_electronic_document_on_behalf_of(
        self,
        *,
        subject: str,
        content: bytes,
        file_name: str,
        sender: OnBehalfSender,
        receiver_type: ProfileType | str,
        receiver_id: str,
        registration_number: str | None = None,
        service_oid: str | None = None,
        operator_egn: str | None = None,
    ) -> int:
        """Deliver a document on behalf of ``sender`` (``SendElectronicDocumentOnBehalfOf``)."""
        kind = _profile_type(receiver_type, "receiver", allowed=_RECEIVERS)
        sender_kind = _profile_type(sender.type, "sender", allowed=_SENDERS)
        _required(subject, "the subject", "Заглавието")
        _check_file_name(file_name)
        if not content:
            raise _argument("the document has no content", "документът няма съдържание")
        _check_size(len(content), self._limits.max_request_bytes)
        return cast(
            int,
            self._call(
                "SendElectronicDocumentOnBehalfOf",
                subject=subject,
                docBytes=bytes(content),
                docNameWithExtension=file_name,
                docRegNumber=registration_number,
                senderType=sender_kind,
                senderUniqueIdentifier=self._identifier(sender_kind, sender.identifier, "sender"),
                senderPhone=sender.phone,
                senderEmail=sender.email,
                senderFirstName=sender.first_name,
                senderLastName=sender.last_name,
                receiverType=kind,
                receiverUniqueIdentifier=self._identifier(kind, receiver_id, "receiver"),
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_message(
        self,
        message: DcMessageDetails,
        *,
        receiver_type: ProfileType | str,
        receiver_id: str,
        receiver_phone: str | None = None,
        receiver_email: str | None = None,
        service_oid: str | None = None,
        operator_egn: str | None = None,
    ) -> int:
        """Send a message (title, text, documents) (``SendMessage``); returns its id."""
        kind = _profile_type(receiver_type, "receiver", allowed=_RECEIVERS)
        _check_message(message, self._limits.max_request_bytes)
        return cast(
            int,
            self._call(
                "SendMessage",
                message=message,
                receiverType=kind,
                receiverUniqueIdentifier=self._identifier(kind, receiver_id, "receiver"),
                receiverPhone=receiver_phone,
                receiverEmail=receiver_email,
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_message_in_reply_to(
        self,
        message: DcMessageDetails,
        reply_to_message_id: int,
        *,
        service_oid: str | None = None,
        operator_egn: str | None = None,
    ) -> int:
        """Answer a received message (``SendMessageInReplyTo``); returns the new message's id."""
        _check_message(message, self._limits.max_request_bytes)
        if isinstance(reply_to_message_id, bool) or reply_to_message_id < 1:
            raise _argument(
                "the message id must be positive", "идентификаторът трябва да е положителен"
            )
        return cast(
            int,
            self._call(
                "SendMessageInReplyTo",
                message=message,
                replyToMessageId=reply_to_message_id,
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_message_on_behalf_of(
        self,
        message: DcMessageDetails,
        *,
        sender: OnBehalfSender,
        receiver_type: ProfileType | str,
        receiver_id: str,
        service_oid: str | None = None,
        operator_egn: str | None = None,
    ) -> int:
        """Send a message on behalf of ``sender`` (``SendMessageOnBehalfOf``)."""
        kind = _profile_type(receiver_type, "receiver", allowed=_RECEIVERS)
        sender_kind = _profile_type(sender.type, "sender", allowed=_SENDERS)
        _check_message(message, self._limits.max_request_bytes)
        return cast(
            int,
            self._call(
                "SendMessageOnBehalfOf",
                message=message,
                senderType=sender_kind,
                senderUniqueIdentifier=self._identifier(sender_kind, sender.identifier, "sender"),
                senderPhone=sender.phone,
                senderEmail=sender.email,
                senderFirstName=sender.first_name,
                senderLastName=sender.last_name,
                receiverType=kind,
                receiverUniqueIdentifier=self._identifier(kind, receiver_id, "receiver"),
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_message_on_behalf_to_person(
        self,
        message: DcMessageDetails,
        *,
        sender_id: str,
        receiver: PersonReceiver,
        operator_egn: str,
        service_oid: str | None = None,
    ) -> int:
        """Send, on behalf of the institution with ЕИК ``sender_id``, to a person
        (``SendMessageOnBehalfToPerson``). The service requires ``operator_egn``."""
        _check_message(message, self._limits.max_request_bytes)
        _required(operator_egn, "operator_egn", "ЕГН на оператора")
        return cast(
            int,
            self._call(
                "SendMessageOnBehalfToPerson",
                message=message,
                senderUniqueIdentifier=self._identifier(
                    ProfileType.Institution, sender_id, "sender"
                ),
                receiverUniqueIdentifier=self._identifier(
                    ProfileType.Person, receiver.identifier, "receiver"
                ),
                receiverPhone=receiver.phone,
                receiverEmail=receiver.email,
                receiverFirstName=receiver.first_name,
                receiverLastName=receiver.last_name,
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def send_message_on_behalf_to_legal_entity(
        self,
        message: DcMessageDetails,
        *,
        sender_id: str,
        receiver_id: str,
        operator_egn: str,
        service_oid: str | None = None,
    ) -> int:
        """Send, on behalf of the institution with ЕИК ``sender_id``, to a legal person
        (``SendMessageOnBehalfToLegalEntity``). The service requires ``operator_egn``."""
        _check_message(message, self._limits.max_request_bytes)
        _required(operator_egn, "operator_egn", "ЕГН на оператора")
        return cast(
            int,
            self._call(
                "SendMessageOnBehalfToLegalEntity",
                message=message,
                senderUniqueIdentifier=self._identifier(
                    ProfileType.Institution, sender_id, "sender"
                ),
                receiverUniqueIdentifier=self._identifier(
                    ProfileType.LegalPerson, receiver_id, "receiver"
                ),
                serviceOID=service_oid,
                operatorEGN=self._operator(operator_egn),
            ),
        )

    # --- lists ----------------------------------------------------------------------------

    def get_sent_messages(
        self, page: int = 1, page_size: int = 50, *, operator_egn: str | None = None
    ) -> DcPartialListOfDcMessage:
        """One page of the sent messages, newest first (``GetSentMessagesListPaged``)."""
        _check_page(page, page_size)
        result = self._call(
            "GetSentMessagesListPaged",
            pageNumber=page,
            pageSize=page_size,
            operatorEGN=self._operator(operator_egn),
        )
        return result or DcPartialListOfDcMessage(all_items_count=0, items=[])

    def get_received_messages(
        self,
        page: int = 1,
        page_size: int = 50,
        *,
        only_new: bool = False,
        operator_egn: str | None = None,
    ) -> DcPartialListOfDcMessage:
        """One page of the received messages (``GetReceivedMessagesListPaged``); with
        ``only_new`` only those not opened yet."""
        _check_page(page, page_size)
        result = self._call(
            "GetReceivedMessagesListPaged",
            onlyNew=bool(only_new),
            pageNumber=page,
            pageSize=page_size,
            operatorEGN=self._operator(operator_egn),
        )
        return result or DcPartialListOfDcMessage(all_items_count=0, items=[])

    def iter_received_messages(
        self, *, only_new: bool = False, page_size: int = 50, operator_egn: str | None = None
    ) -> Iterator[DcMessage]:
        """Every received message, page by page (stops at the reported total or an empty page)."""
        page = 1
        seen = 0
        while True:
            listing = self.get_received_messages(
                page, page_size, only_new=only_new, operator_egn=operator_egn
            )
            items = listing.items or []
            yield from items
            seen += len(items)
            if not items or seen >= (listing.all_items_count or 0):
                return
            page += 1

    def iter_sent_messages(
        self, *, page_size: int = 50, operator_egn: str | None = None
    ) -> Iterator[DcMessage]:
        """Every sent message, page by page."""
        page = 1
        seen = 0
        while True:
            listing = self.get_sent_messages(page, page_size, operator_egn=operator_egn)
            items = listing.items or []
            yield from items
            seen += len(items)
            if not items or seen >= (listing.all_items_count or 0):
                return
            page += 1

    # --- messages and documents -----------------------------------------------------------

    def _message_id(self, message_id: int) -> int:
        if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id < 1:
            raise _argument(
                "ids are positive integers", "идентификаторите са положителни цели числа"
            )
        return message_id

    def get_received_message(
        self, message_id: int, *, operator_egn: str | None = None
    ) -> DcMessageDetails | None:
        """A received message with its documents (``GetReceivedMessageContent``). Opening it
        makes it delivered: the sender gets the time stamp of delivery."""
        return cast(
            DcMessageDetails | None,
            self._call(
                "GetReceivedMessageContent",
                messageId=self._message_id(message_id),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_message(
        self, message_id: int, *, operator_egn: str | None = None
    ) -> DcMessageDetails | None:
        """A sent message with its documents (``GetSentMessageContent``)."""
        return cast(
            DcMessageDetails | None,
            self._call(
                "GetSentMessageContent",
                messageId=self._message_id(message_id),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_message_status(
        self, message_id: int, *, operator_egn: str | None = None
    ) -> DcMessageDetails | None:
        """A sent message's status and time stamps, without content (``GetSentMessageStatus``);
        :attr:`~eintegr.messages.edelivery.DcMessage.date_received` is set once delivered."""
        return cast(
            DcMessageDetails | None,
            self._call(
                "GetSentMessageStatus",
                messageId=self._message_id(message_id),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_document_status(
        self, registration_number: str, *, operator_egn: str | None = None
    ) -> DcMessageDetails | None:
        """The message that delivered the document with ``registration_number``
        (``GetSentDocumentStatusByRegNum``)."""
        return cast(
            DcMessageDetails | None,
            self._call(
                "GetSentDocumentStatusByRegNum",
                documentRegistrationNumber=_required(
                    registration_number, "the registration number", "Регистровият номер"
                ),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_document(
        self, document_id: int, *, operator_egn: str | None = None
    ) -> DcDocument | None:
        """A sent document with its content (``GetSentDocumentContent``)."""
        return cast(
            DcDocument | None,
            self._call(
                "GetSentDocumentContent",
                documentId=self._message_id(document_id),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_document_by_registration_number(
        self, registration_number: str, *, operator_egn: str | None = None
    ) -> DcDocument | None:
        """A sent document by its registration number (``GetSentDocumentContentByRegNum``)."""
        return cast(
            DcDocument | None,
            self._call(
                "GetSentDocumentContentByRegNum",
                documentRegistrationNumber=_required(
                    registration_number, "the registration number", "Регистровият номер"
                ),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def get_sent_documents(
        self, message_id: int, *, operator_egn: str | None = None
    ) -> list[DcDocument]:
        """Every document of a sent message, with content (``GetSentDocumentsContent``)."""
        return cast(
            list[DcDocument],
            self._call(
                "GetSentDocumentsContent",
                messageId=self._message_id(message_id),
                operatorEGN=self._operator(operator_egn),
            ),
        )

    def __repr__(self) -> str:
        return f"EDeliveryClient({self._url!r})"
