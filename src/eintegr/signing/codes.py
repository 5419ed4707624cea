"""The stable codes of signature verification failures, with English and Bulgarian meanings.

``П.7`` and ``П.8`` are the receiver-side checks of the same number in the СЕОС compatibility
procedure; the ``SIG-*`` codes refine "the signature is not valid". Every
:class:`~eintegr.errors.VerificationError` raised by :mod:`eintegr.signing` carries one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALGORITHM",
    "CERT_EXPIRED",
    "CERT_USAGE",
    "DIGEST",
    "FAILURE_CODES",
    "KEY",
    "STRUCTURE",
    "UNSIGNED",
    "UNTRUSTED",
    "VALUE",
    "XML",
    "FailureCode",
]

UNSIGNED = "П.7"
UNTRUSTED = "П.8"
STRUCTURE = "SIG-STRUCTURE"
DIGEST = "SIG-DIGEST"
VALUE = "SIG-VALUE"
ALGORITHM = "SIG-ALGORITHM"
KEY = "SIG-KEY"
CERT_EXPIRED = "SIG-CERT-EXPIRED"
CERT_USAGE = "SIG-CERT-USAGE"
XML = "SIG-XML"


@dataclass(frozen=True, slots=True)
class FailureCode:
    """One verification failure code and what it means, in English and Bulgarian."""

    code: str
    meaning: str
    meaning_bg: str


FAILURE_CODES: dict[str, FailureCode] = {
    f.code: f
    for f in (
        FailureCode(
            UNSIGNED,
            "not signed: no ds:Signature at its place",
            "не е подписано: липсва ds:Signature на мястото му",
        ),
        FailureCode(
            UNTRUSTED,
            "signed with a certificate the policy does not trust "
            "(for СЕОС: not the sender's registered transport certificate)",
            "подписано със сертификат, на който политиката не се доверява "
            "(за СЕОС: не е регистрираният транспортен сертификат на подателя)",
        ),
        FailureCode(
            STRUCTURE,
            "the signature is not in the accepted form: not at its exact place, several "
            "signatures, a reference that does not cover the whole content, extra or by-Id "
            "references, unexpected transforms, no certificate in KeyInfo",
            "подписът не е в приетата форма: не е на точното си място, има няколко подписа, "
            "препратката не обхваща цялото съдържание, допълнителни препратки или препратки "
            "по Id, неочаквани трансформации, липсва сертификат в KeyInfo",
        ),
        FailureCode(
            DIGEST,
            "the signed content was changed after signing",
            "подписаното съдържание е променено след подписването",
        ),
        FailureCode(
            VALUE,
            "the signature value does not verify with the certificate's key",
            "стойността на подписа не се потвърждава с ключа на сертификата",
        ),
        FailureCode(
            ALGORITHM,
            "an algorithm the policy does not allow: SHA-1 without opt-in, HMAC, unknown",
            "алгоритъм, който политиката не допуска: SHA-1 без изрично разрешение, HMAC, непознат",
        ),
        FailureCode(
            KEY,
            "the certificate's key is too weak or of an unsupported kind",
            "ключът на сертификата е твърде слаб или от неподдържан вид",
        ),
        FailureCode(
            CERT_EXPIRED,
            "the certificate is not valid at the verification time",
            "сертификатът не е валиден към момента на проверката",
        ),
        FailureCode(
            CERT_USAGE,
            "the certificate's key usage does not allow signing",
            "предназначението на ключа на сертификата не позволява подписване",
        ),
        FailureCode(
            XML,
            "the XML was refused by the hardened parser (DTD, entities, malformed, too large)",
            "XML документът е отхвърлен от защитения анализатор (DTD, ентитита, "
            "неправилно формиран, твърде голям)",
        ),
    )
}
