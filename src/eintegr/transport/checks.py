"""The sender's checks of a СЕОС exchange: the outgoing message (И.1–И.6) and the answer (И.9–И.15).

The specification ("Изпращане на съобщение") makes the sender check its own message before
sending it, and check the synchronous answer before accepting it::

    checks = ExchangeChecks(register=register, certificate=our_certificate, trust=trust)
    outgoing = checks.check_outgoing(message, recipient)          # SenderError И.1–И.6
    ...                                                           # send it
    checks.check_response(answer, outgoing, recipient)            # ReceiverError И.9–И.15

Every failure carries the check ID as its ``code``. Header values are read as XPath string
values (text nodes only), which is exactly what the signature covers: a comment cannot hide
part of a GUID from the checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeAlias

from cryptography import x509
from lxml import etree

from eintegr.errors import (
    ReceiverError,
    RegistryError,
    SenderError,
    VerificationError,
    XmlError,
)
from eintegr.identifiers import Guid
from eintegr.registry.model import Participant, Register, normalize_serial
from eintegr.schemas import SEOS_NS, seos_schema
from eintegr.signing import codes as signature_codes
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.trust import PinnedCertificates, Trust
from eintegr.signing.xmldsig import VerifiedMessage, verify_message
from eintegr.transport.base import InMemorySeenMessages, SeenMessages
from eintegr.validation.xsd import xsd_issues
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = [
    "RESPONSE_KINDS",
    "ExchangeChecks",
    "OutgoingMessage",
    "Party",
    "ResponsePolicy",
    "read_outgoing",
]

_NS = {"m": SEOS_NS}
_MESSAGE = "{" + SEOS_NS + "}Message"

ResponsePolicy: TypeAlias = Callable[[Participant, x509.Certificate | None], VerificationPolicy]
"""Makes the signature policy of a response: ``(recipient, peer TLS certificate or None)``."""

RESPONSE_KINDS: frozenset[str] = frozenset({"DocumentStatusResponse", "Error"})
"""The bodies a synchronous response may carry; a registration or status *request* as an
answer is an error (the compatibility procedure, application level)."""


@dataclass(frozen=True, slots=True)
class Party:
    """A participant as a message header names it: GUID and ЕИК/БУЛСТАТ (``Identifier``)."""

    guid: Guid | None
    identifier: str

    def matches(self, other: Party) -> bool:
        """True when both the GUID and the identifier are equal (the specification's rule)."""
        return (
            self.guid is not None
            and self.guid == other.guid
            and self.identifier == other.identifier
        )

    def matches_participant(self, participant: Participant) -> bool:
        """True when this is ``participant`` by GUID and ЕИК."""
        return self.guid == participant.guid and self.identifier == participant.eik

    def __str__(self) -> str:
        return f"{self.guid} (ЕИК {self.identifier})"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What the sender remembers of a message it sends, to check the answer against it."""

    message_guid: Guid | None
    sender: Party
    recipient: Party
    body: str
    """The local name of the body's element (``DocumentRegistrationRequest``, ...)."""


def _sender_error(code: str, en: str, bg: str) -> NoReturn:
    raise SenderError(en, code=code, message_bg=bg)


def _receiver_error(code: str, en: str, bg: str) -> NoReturn:
    raise ReceiverError(en, code=code, message_bg=bg)


def _string(root: etree._Element, path: str) -> str:
    value = root.xpath(f"string({path})", namespaces=_NS)
    return str(value).strip()


def _guid(text: str) -> Guid | None:
    try:
        return Guid.parse_lenient(text)
    except ValueError:
        return None


def _read_header(root: etree._Element) -> OutgoingMessage | None:
    if root.tag != _MESSAGE:
        return None
    head = "/m:Message/m:Header"
    body = root.find("m:Body", _NS)
    kinds = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    return OutgoingMessage(
        message_guid=_guid(_string(root, f"{head}/m:MessageGUID")),
        sender=Party(
            _guid(_string(root, f"{head}/m:Sender/m:GUID")),
            _string(root, f"{head}/m:Sender/m:Identifier"),
        ),
        recipient=Party(
            _guid(_string(root, f"{head}/m:Recipient/m:GUID")),
            _string(root, f"{head}/m:Recipient/m:Identifier"),
        ),
        body=etree.QName(kinds[0]).localname if len(kinds) == 1 else "",
    )


def read_outgoing(message: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> OutgoingMessage:
    """Read the header of a message about to be sent (check И.1 only).

    :raises SenderError: ``И.1`` when the bytes are not well-formed XML, ``И.2`` when the
        root is not a СЕОС ``Message``.
    """
    try:
        root = parse_xml(message, limits=limits).getroot()
    except XmlError as error:
        _sender_error(
            "И.1",
            f"the outgoing message is not well-formed XML (И.1): {error}",
            f"Изходящото съобщение не е валиден XML документ (И.1): {error.message_bg}",
        )
    header = _read_header(root)
    if header is None:
        _sender_error(
            "И.2",
            f"the outgoing message's root is {root.tag!r}, not a СЕОС Message (И.2)",
            f"Коренът на изходящото съобщение е {root.tag!r}, а не Message на СЕОС (И.2)",
        )
    return header


class ExchangeChecks:
    """The sender's checks of the specification, configured once per participant.

    :param register: the participants' register (И.3, И.4, И.6, И.14).
    :param certificate: our own transport certificate: outgoing messages must be signed with
        it, and it must be the one registered for their sender (И.6).
    :param trust: who may sign a response when the transport does not know the peer's
        certificate (in-process transports); e.g.
        :class:`~eintegr.signing.CertificateAuthorities` over the transport CAs. The
        ``Submit`` client pins the server's TLS certificate instead.
    :param seen: the ``MessageGUID`` values already received or sent (И.15); an in-memory set
        by default.
    :param schemas: an official schema folder for И.2 / И.10 (default: eintegr's own XSDs).
    :param allow_sha1: accept RSA-SHA1 signatures (old deployments) on responses.
    :param limits: parsing limits for messages and responses.
    :param response_policy: the signature policy of a response from a recipient, given the
        peer's TLS certificate when there is one (instead of the default: pinned to that
        certificate, else :attr:`trust`; SHA-1 only with ``allow_sha1``). The signer's serial
        number is compared with the register in any case.
    """

    def __init__(
        self,
        *,
        register: Register,
        certificate: x509.Certificate,
        trust: Trust,
        seen: SeenMessages | None = None,
        schemas: Path | None = None,
        allow_sha1: bool = False,
        limits: XmlLimits = DEFAULT_LIMITS,
        response_policy: ResponsePolicy | None = None,
    ) -> None:
        self.register = register
        self.certificate = certificate
        self.trust = trust
        self.seen: SeenMessages = seen if seen is not None else InMemorySeenMessages()
        self.schemas = schemas
        self.allow_sha1 = allow_sha1
        self.limits = limits
        self.response_policy = response_policy
        seos_schema(schemas)  # fail early (SchemaError) on an unusable schema folder

    # --- outgoing: И.1–И.6 ----------------------------------------------------------------

    def check_outgoing(
        self, message: bytes, recipient: Participant | None = None
    ) -> OutgoingMessage:
        """Check a message before sending it (И.1–И.6) and return what its header says.

        :param recipient: the participant it is about to be sent to; its GUID and ЕИК must be
            the message's ``Recipient``.
        :raises SenderError: code ``И.1`` … ``И.6``; do not send the message.
        """
        try:
            tree = parse_xml(message, limits=self.limits)
        except XmlError as error:
            _sender_error(
                "И.1",
                f"the outgoing message is not well-formed XML (И.1): {error}",
                f"Изходящото съобщение не е валиден XML документ (И.1): {error.message_bg}",
            )
        issues = xsd_issues(seos_schema(self.schemas), tree, code="И.2")
        if issues:
            _sender_error(
                "И.2",
                f"the outgoing message is not valid against the СЕОС XSD (И.2): "
                f"{issues[0].message_en}" + _more(len(issues)),
                f"Изходящото съобщение не съответства на XSD схемите (И.2): {issues[0].message_bg}",
            )
        header = _read_header(tree.getroot())
        assert header is not None  # the schema's root is Message
        sender = self._registered(header.sender, "И.3", "sender", ("подателят", "подателя"))
        registered = self._registered(
            header.recipient, "И.4", "recipient", ("получателят", "получателя")
        )
        if recipient is not None and registered.guid != recipient.guid:
            _sender_error(
                "И.4",
                f"the message is addressed to {header.recipient} but is being sent to "
                f"{recipient.guid} ({recipient.name}) (И.4)",
                f"Съобщението е адресирано до {header.recipient}, а се изпраща до "
                f"{recipient.guid} ({recipient.name}) (И.4)",
            )
        if not sender.holds_certificate(self.certificate):
            _sender_error(
                "И.6",
                f"our transport certificate (serial {_serial(self.certificate)}) is not the one "
                f"registered for the sender {sender.guid} "
                f"(serial {sender.certificate_serial}) (И.6)",
                f"Нашият транспортен сертификат (сериен номер {_serial(self.certificate)}) не е "
                f"регистрираният за подателя {sender.guid} (сериен номер "
                f"{sender.certificate_serial}) (И.6)",
            )
        policy = VerificationPolicy(trust=PinnedCertificates([self.certificate]))
        try:
            verify_message(message, policy, limits=self.limits)
        except VerificationError as error:
            if error.code == signature_codes.UNSIGNED:
                _sender_error(
                    "И.5",
                    "the outgoing message is not signed (И.5)",
                    "Изходящото съобщение не е електронно подписано (И.5)",
                )
            _sender_error(
                "И.6",
                f"the outgoing message is not validly signed with our registered transport "
                f"certificate (И.6; {error.code}: {error})",
                f"Изходящото съобщение не е валидно подписано с регистрирания ни транспортен "
                f"сертификат (И.6; {error.code}: {error.message_bg})",
            )
        return header

    def _registered(
        self, party: Party, code: str, role: str, role_bg: tuple[str, str]
    ) -> Participant:
        who_bg, of_whom_bg = role_bg
        if party.guid is None:
            _sender_error(
                code,
                f"the {role}'s GUID is not a GUID ({code})",
                f"GUID на {of_whom_bg} не е GUID ({code})",
            )
        try:
            participant = self.register.by_guid(party.guid)
        except RegistryError:
            _sender_error(
                code,
                f"the {role} {party} is not in the participants' register ({code})",
                f"{who_bg.capitalize()} {party} не е вписан в Регистъра на участниците ({code})",
            )
        if participant.eik != party.identifier:
            _sender_error(
                code,
                f"the {role} {party}: the register holds ЕИК {participant.eik} for that GUID "
                f"({code})",
                f"{who_bg.capitalize()} {party}: в Регистъра този GUID е с ЕИК "
                f"{participant.eik} ({code})",
            )
        return participant

    # --- the answer: И.9–И.15 -------------------------------------------------------------

    def check_response(
        self,
        response: bytes,
        outgoing: OutgoingMessage,
        recipient: Participant,
        *,
        peer_certificate: x509.Certificate | None = None,
    ) -> VerifiedMessage:
        """Check the synchronous answer to ``outgoing`` sent to ``recipient`` (И.9–И.15).

        :param peer_certificate: the recipient's TLS server certificate, when the transport
            has one: the response must be signed with exactly that certificate. Otherwise the
            signer must be trusted by :attr:`trust`. Either way its serial number must be the
            recipient's registered one.
        :returns: the verified response.
        :raises ReceiverError: code ``И.9`` … ``И.15``, or ``SEOS-RESPONSE-KIND`` for an
            answer that is a request; stop retrying.
        """
        try:
            tree = parse_xml(response, limits=self.limits)
        except XmlError as error:
            _receiver_error(
                "И.9",
                f"the response is not well-formed XML (И.9): {error}",
                f"Отговорът не е валиден XML документ (И.9): {error.message_bg}",
            )
        issues = xsd_issues(seos_schema(self.schemas), tree, code="И.10")
        if issues:
            _receiver_error(
                "И.10",
                f"the response is not valid against the СЕОС XSD (И.10): {issues[0].message_en}"
                + _more(len(issues)),
                f"Отговорът не съответства на XSD схемите (И.10): {issues[0].message_bg}",
            )
        answer = _read_header(tree.getroot())
        assert answer is not None  # the schema's root is Message
        if not answer.sender.matches(outgoing.recipient):
            _receiver_error(
                "И.11",
                f"the response's sender {answer.sender} is not the recipient of our message "
                f"{outgoing.recipient} (И.11)",
                f"Подателят на отговора {answer.sender} не е получателят на нашето съобщение "
                f"{outgoing.recipient} (И.11)",
            )
        if not answer.recipient.matches(outgoing.sender):
            _receiver_error(
                "И.12",
                f"the response's recipient {answer.recipient} is not the sender of our message "
                f"{outgoing.sender} (И.12)",
                f"Получателят на отговора {answer.recipient} не е подателят на нашето "
                f"съобщение {outgoing.sender} (И.12)",
            )
        verified = self._verify_response(response, recipient, peer_certificate)
        guid = answer.message_guid
        assert guid is not None  # the schema's GUID pattern
        if guid == outgoing.message_guid or not self.seen.add_if_new(guid):
            _receiver_error(
                "И.15",
                f"the response's MessageGUID {guid} is one of a message already received or "
                "sent (И.15)",
                f"Уникалният идентификатор на отговора {guid} съвпада с този на вече "
                "получено или изпратено съобщение (И.15)",
            )
        if answer.body not in RESPONSE_KINDS:
            _receiver_error(
                "SEOS-RESPONSE-KIND",
                f"a {answer.body} cannot be a synchronous response (only a status response or "
                "an error)",
                f"{answer.body} не може да бъде синхронен отговор (само известие за състояние "
                "или известие за грешка)",
            )
        return verified

    def _verify_response(
        self, response: bytes, recipient: Participant, peer: x509.Certificate | None
    ) -> VerifiedMessage:
        if self.response_policy is not None:
            policy = self.response_policy(recipient, peer)
        else:
            trust = PinnedCertificates([peer]) if peer is not None else self.trust
            policy = VerificationPolicy(trust=trust, allow_sha1=self.allow_sha1)
        try:
            verified = verify_message(response, policy, limits=self.limits)
        except VerificationError as error:
            if error.code == signature_codes.UNSIGNED:
                _receiver_error(
                    "И.13",
                    "the response is not signed (И.13)",
                    "Отговорът не е електронно подписан (И.13)",
                )
            _receiver_error(
                "И.14",
                f"the response is not validly signed with the recipient's registered transport "
                f"certificate (И.14; {error.code}: {error})",
                f"Отговорът не е валидно подписан с регистрирания транспортен сертификат на "
                f"получателя (И.14; {error.code}: {error.message_bg})",
            )
        if not recipient.holds_certificate(verified.certificate):
            _receiver_error(
                "И.14",
                f"the response is signed with certificate serial {_serial(verified.certificate)}, "
                f"not the recipient's registered {recipient.certificate_serial} (И.14)",
                f"Отговорът е подписан със сертификат със сериен номер "
                f"{_serial(verified.certificate)}, а не с регистрирания за получателя "
                f"{recipient.certificate_serial} (И.14)",
            )
        return verified


def _serial(certificate: x509.Certificate) -> str:
    return normalize_serial(certificate.serial_number)


def _more(count: int) -> str:
    return f" (and {count - 1} more)" if count > 1 else ""
