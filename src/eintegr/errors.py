"""The exception hierarchy of eintegr.

Every exception raised on purpose by the library derives from :class:`EintegrError`, and
also from the built-in exception that best describes it, so ``except ValueError`` keeps
working for callers who do not know eintegr::

    EintegrError
    ├── XmlError (ValueError)               XML that cannot be accepted
    │   ├── XmlSyntaxError                  not well-formed, empty, wrong encoding
    │   ├── XmlSecurityError                DOCTYPE / entities / external references
    │   └── XmlLimitError                   size or depth limit exceeded
    ├── IdentifierError (ValueError)        ЕГН, ЛНЧ, ЕИК/БУЛСТАТ, GUID, OID that is not valid
    ├── SchemaError (ValueError)            a schema (folder) that cannot be loaded
    ├── MessageError (ValueError)           XML that cannot be bound to a message model
    ├── ValidationFailed (ValueError)       ``ValidationReport.raise_for_errors()``
    ├── KeyLoadError (ValueError)           a key, certificate or PKCS#12 file that cannot be used
    ├── SigningError (ValueError)           a message or document that cannot be signed
    ├── VerificationError (ValueError)      a signature that does not verify or is not trusted
    ├── SoapError (ValueError)              a SOAP envelope that cannot be read
    ├── RegistryError (LookupError)         a participant or service the register does not know
    ├── TransportError (ConnectionError)    a message that could not be delivered or answered
    │   ├── TransportFault                  a fault or network failure: retry later (И.8)
    │   ├── SenderError                     the sender's fault: stop retrying
    │   └── ReceiverError                   the receiver's fault: stop retrying
    └── ExchangeError (ValueError)          a forbidden status change, an unknown document,
                                            an unusable journal (``eintegr.exchange``)

Expected outcomes (an invalid document, a failed signature check) are returned as report
objects; these exceptions are for misuse, for unusable input, and for the
``raise_for_errors()`` style opt-in.

Every exception carries a stable machine-readable ``code`` and a message in English (``str(exc)``)
and Bulgarian (``exc.message_bg``).
"""

from __future__ import annotations

__all__ = [
    "EintegrError",
    "ExchangeError",
    "IdentifierError",
    "KeyLoadError",
    "MessageError",
    "ReceiverError",
    "RegistryError",
    "SchemaError",
    "SenderError",
    "SigningError",
    "SoapError",
    "TransportError",
    "TransportFault",
    "ValidationFailed",
    "VerificationError",
    "XmlError",
    "XmlLimitError",
    "XmlSecurityError",
    "XmlSyntaxError",
]


class EintegrError(Exception):
    """Root of every exception raised by eintegr.

    :param message: the English message (``str(exc)``).
    :param code: stable machine-readable code; defaults to the class's ``default_code``.
    :param message_bg: the Bulgarian message; defaults to the English one.
    :param path: an XPath-like location in the offending XML, when one is known.
    :param line: the source line in the offending XML, when one is known.
    """

    default_code = "EINTEGR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        message_bg: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.message_bg = message_bg or message
        self.path = path
        self.line = line

    def localized(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"bg"``."""
        return self.message_bg if lang == "bg" else self.message


class XmlError(EintegrError, ValueError):
    """XML input that cannot be accepted."""

    default_code = "XML"


class XmlSyntaxError(XmlError):
    """The input is not well-formed XML (or is empty, or not text at all)."""

    default_code = "XML-MALFORMED"


class XmlSecurityError(XmlError):
    """The input uses a forbidden construct: a DOCTYPE, entity declarations, external references."""

    default_code = "XML-FORBIDDEN"


class XmlLimitError(XmlError):
    """The input exceeds an explicit size or nesting-depth limit."""

    default_code = "XML-LIMIT"


class IdentifierError(EintegrError, ValueError):
    """An identifier (ЕГН, ЛНЧ, ЕИК/БУЛСТАТ, GUID, OID, URI) that is not valid."""

    default_code = "ID-INVALID"


class SchemaError(EintegrError, ValueError):
    """A schema or schema folder that cannot be loaded or compiled."""

    default_code = "SCHEMA-LOAD"


class MessageError(EintegrError, ValueError):
    """XML that is well-formed but cannot be bound to a message model."""

    default_code = "MODEL-BIND"


class ValidationFailed(EintegrError, ValueError):
    """Raised by ``ValidationReport.raise_for_errors()``; ``report`` holds every issue."""

    default_code = "VALIDATION-FAILED"

    def __init__(self, message: str, *, report: object, message_bg: str | None = None) -> None:
        super().__init__(message, message_bg=message_bg)
        self.report = report


class KeyLoadError(EintegrError, ValueError):
    """A private key, certificate or PKCS#12 bundle that cannot be loaded or used."""

    default_code = "KEY-LOAD"


class SigningError(EintegrError, ValueError):
    """A message or document that cannot be signed as asked."""

    default_code = "SIG-SIGN"


class VerificationError(EintegrError, ValueError):
    """A signature that is missing, does not verify, or is not trusted under the policy."""

    default_code = "SIG-INVALID"


class SoapError(EintegrError, ValueError):
    """A SOAP envelope that is malformed or not of the expected shape."""

    default_code = "SOAP-MALFORMED"


class RegistryError(EintegrError, LookupError):
    """A participant, service or certificate that the participants' register does not know."""

    default_code = "REGISTRY-UNKNOWN"


class TransportError(EintegrError, ConnectionError):
    """A message that could not be delivered, or whose answer could not be accepted.

    The subclass says what the sender must do, following the specification's outcome
    classes: :class:`TransportFault` (retry later), :class:`SenderError` and
    :class:`ReceiverError` (stop).
    """

    default_code = "TRANSPORT"


class TransportFault(TransportError):
    """A SOAP fault, a timeout or a network failure ("Неуспешен – Изключение"): retry later.

    ``peer_code`` is the check the peer named in its fault (e.g. ``"П.9"``), when it named one.
    """

    default_code = "TRANSPORT-FAULT"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        message_bg: str | None = None,
        path: str | None = None,
        line: int | None = None,
        peer_code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, message_bg=message_bg, path=path, line=line)
        self.peer_code = peer_code


class SenderError(TransportError):
    """The exchange failed through the sender's fault ("Грешка при подателя"): do not retry."""

    default_code = "TRANSPORT-SENDER"


class ReceiverError(TransportError):
    """The exchange failed through the receiver's fault ("Грешка при получателя"): do not retry."""

    default_code = "TRANSPORT-RECEIVER"


class ExchangeError(EintegrError, ValueError):
    """A participant (``eintegr.exchange``) asked to do something the document lifecycle or
    its journal does not allow: an unknown document, a forbidden status change, a journal
    that cannot be used."""

    default_code = "EXCHANGE"
