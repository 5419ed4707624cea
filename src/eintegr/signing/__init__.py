"""XML signatures for СЕОС: sign and verify messages and documents, keys, trust and policy.

Sign a message with the participant's transport certificate, and verify a received one
against the sender's registered certificate::

    from eintegr.signing import (
        PinnedCertificates, VerificationPolicy, load_pkcs12_signer, sign_message, verify_message,
    )

    signer = load_pkcs12_signer(Path("transport.p12"), b"password")
    signed = sign_message(message_bytes, signer)

    policy = VerificationPolicy(trust=PinnedCertificates([sender_certificate]))
    verified = verify_message(received, policy)  # VerificationError: П.7, П.8, SIG-*
    verified.message.header.sender

Failure codes are listed in :data:`eintegr.signing.codes.FAILURE_CODES`.
"""

from __future__ import annotations

from eintegr.signing.codes import FAILURE_CODES, FailureCode
from eintegr.signing.keys import load_certificates, load_pem_signer, load_pkcs12_signer
from eintegr.signing.policy import DEFAULT_ALGORITHMS, VerificationPolicy
from eintegr.signing.signer import (
    Canonicalization,
    DigestAlgorithm,
    KeySigner,
    SignatureAlgorithm,
    Signer,
)
from eintegr.signing.trust import CertificateAuthorities, PinnedCertificates, Trust
from eintegr.signing.xmldsig import (
    SignatureReport,
    VerifiedDocument,
    VerifiedMessage,
    check_document_signature,
    check_message_signature,
    sign_document,
    sign_message,
    verify_document,
    verify_message,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "FAILURE_CODES",
    "Canonicalization",
    "CertificateAuthorities",
    "DigestAlgorithm",
    "FailureCode",
    "KeySigner",
    "PinnedCertificates",
    "SignatureAlgorithm",
    "SignatureReport",
    "Signer",
    "Trust",
    "VerificationPolicy",
    "VerifiedDocument",
    "VerifiedMessage",
    "check_document_signature",
    "check_message_signature",
    "load_certificates",
    "load_pem_signer",
    "load_pkcs12_signer",
    "sign_document",
    "sign_message",
    "verify_document",
    "verify_message",
]
