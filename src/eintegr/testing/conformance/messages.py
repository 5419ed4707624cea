"""The messages the tester sends and answers with, well-formed or broken on purpose."""

from __future__ import annotations

import datetime as _dt
import os

from lxml import etree

from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    Attachment,
    EntityNode,
    Message,
    new_document,
    registration_request,
)
from eintegr.registry.model import Participant
from eintegr.schemas import SEOS_NS
from eintegr.signing import Signer, sign_message
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.xml import XmlLimits, parse_xml, to_bytes

__all__ = ["entity", "foreign_signer", "registration", "signed", "with_stray_element"]


def entity(participant: Participant) -> EntityNode:
    """``participant`` as a message's ``Sender`` / ``Recipient``."""
    return EntityNode(
        identifier=participant.eik,
        administrative_body_name=participant.name,
        guid=participant.guid,
    )


def registration(
    sender: Participant, recipient: Participant, *, attachment_bytes: int = 0
) -> Message:
    """A registration request from ``sender`` to ``recipient`` (with one attachment of
    ``attachment_bytes`` random bytes when positive)."""
    attachments = (
        [
            Attachment(
                file_name="conformance.bin",
                content=os.urandom(attachment_bytes),
                mime_type="application/octet-stream",
            )
        ]
        if attachment_bytes > 0
        else []
    )
    today = _dt.date.today()
    document = new_document(
        kind="Писмо",
        number=f"CONF-{str(Guid.new())[1:9]}",
        date=today,
        about="eintegr conformance test / тест за съвместимост",
        attachments=attachments,
    )
    return registration_request(
        sender=entity(sender),
        recipient=entity(recipient),
        document=document,
        comment="eintegr conformance",
    )


def signed(message: Message | bytes, signer: Signer) -> bytes:
    """``message`` signed by ``signer`` (large messages allowed)."""
    data = message.to_xml() if isinstance(message, Message) else message
    return sign_message(data, signer, limits=XmlLimits(max_bytes=max(len(data) * 2, 1 << 20)))


def with_stray_element(message: Message) -> bytes:
    """``message`` with an element in ``Header`` that the XSD does not allow."""
    root = parse_xml(message.to_xml(), limits=XmlLimits()).getroot()
    header = root.find(f"{{{SEOS_NS}}}Header")
    assert header is not None
    etree.SubElement(header, f"{{{SEOS_NS}}}ConformanceUnexpected").text = "1"
    return to_bytes(root)


def foreign_signer(*, eik: str) -> Issued:
    """A certificate and key from a CA of its own (for "signed with another certificate")."""
    return make_transport_certificate(
        make_ca("eintegr conformance foreign CA"), eik=eik, host="localhost"
    )
