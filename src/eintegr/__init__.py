"""eintegr — the regulated formats of Bulgarian e-government, built, validated, signed and sent.

The names below are the public API, loaded on first use so that ``import eintegr`` stays
cheap; each also lives in its module (``eintegr.messages``, ``eintegr.validation``,
``eintegr.signing``, …), whose ``__all__`` lists the rest of that module's public names.
Everything not listed in an ``__all__`` is internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from eintegr.errors import EintegrError
    from eintegr.identifiers import Egn, Eik, Guid, Lnch
    from eintegr.messages import (
        Attachment,
        Correspondent,
        Document,
        DocumentStatus,
        EntityNode,
        ErrorKind,
        Message,
        MessageType,
        error_message,
        new_document,
        registration_request,
        reply_to,
        status_request,
        status_response,
    )
    from eintegr.signing import (
        CertificateAuthorities,
        PinnedCertificates,
        SignatureAlgorithm,
        Signer,
        VerificationPolicy,
        VerifiedMessage,
        load_pem_signer,
        load_pkcs12_signer,
        sign_document,
        sign_message,
        verify_document,
        verify_message,
    )
    from eintegr.validation import Issue, Severity, ValidationReport, validate
    from eintegr.xml import XmlLimits, parse_xml

_EXPORTS: dict[str, str] = {
    "EintegrError": "eintegr.errors",
    "XmlLimits": "eintegr.xml",
    "parse_xml": "eintegr.xml",
    "Egn": "eintegr.identifiers",
    "Eik": "eintegr.identifiers",
    "Guid": "eintegr.identifiers",
    "Lnch": "eintegr.identifiers",
    "Attachment": "eintegr.messages",
    "Correspondent": "eintegr.messages",
    "Document": "eintegr.messages",
    "DocumentStatus": "eintegr.messages",
    "EntityNode": "eintegr.messages",
    "ErrorKind": "eintegr.messages",
    "Message": "eintegr.messages",
    "MessageType": "eintegr.messages",
    "error_message": "eintegr.messages",
    "new_document": "eintegr.messages",
    "registration_request": "eintegr.messages",
    "reply_to": "eintegr.messages",
    "status_request": "eintegr.messages",
    "status_response": "eintegr.messages",
    "Issue": "eintegr.validation",
    "Severity": "eintegr.validation",
    "ValidationReport": "eintegr.validation",
    "validate": "eintegr.validation",
    "CertificateAuthorities": "eintegr.signing",
    "PinnedCertificates": "eintegr.signing",
    "SignatureAlgorithm": "eintegr.signing",
    "Signer": "eintegr.signing",
    "VerificationPolicy": "eintegr.signing",
    "VerifiedMessage": "eintegr.signing",
    "load_pem_signer": "eintegr.signing",
    "load_pkcs12_signer": "eintegr.signing",
    "sign_document": "eintegr.signing",
    "sign_message": "eintegr.signing",
    "verify_document": "eintegr.signing",
    "verify_message": "eintegr.signing",
}

__all__ = [
    "Attachment",
    "CertificateAuthorities",
    "Correspondent",
    "Document",
    "DocumentStatus",
    "Egn",
    "Eik",
    "EintegrError",
    "EntityNode",
    "ErrorKind",
    "Guid",
    "Issue",
    "Lnch",
    "Message",
    "MessageType",
    "PinnedCertificates",
    "Severity",
    "SignatureAlgorithm",
    "Signer",
    "ValidationReport",
    "VerificationPolicy",
    "VerifiedMessage",
    "XmlLimits",
    "__version__",
    "error_message",
    "load_pem_signer",
    "load_pkcs12_signer",
    "new_document",
    "parse_xml",
    "registration_request",
    "reply_to",
    "sign_document",
    "sign_message",
    "status_request",
    "status_response",
    "validate",
    "verify_document",
    "verify_message",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eintegr' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
