"""RegiX: the V2 entry point's messages — what a caller sends and what RegiX answers.

An administration collects register data ex officio through RegiX: it sends a
:class:`ServiceRequestData` (the operation's full key, its argument as XML, the
:class:`CallContext` — who asks and on what legal ground — and whether the result is to be
signed) and gets a :class:`ServiceResultData` (``IsReady``, the ``Data`` container with the
echoed request, the response and the access matrix, an optional XAdES ``ds:Signature`` over
``#data``, ``HasError``/``Error``, and for asynchronous calls ``ServiceCallID`` and
``VerificationCode``)::

    request = service_request(
        "PersonDataSearch",
        PersonDataRequest(egn="8506258485"),
        CallContext(service_uri="123-4567-01.01.2024", service_type="Проверка",
                    law_reason="чл. 5 ал. 1 АПК"),
    )
    data = request.to_xml()
    result = ServiceResultData.from_xml(answer)
    result.data.response.element()

The element names, order and spelling follow the contract (``EmployeeAditionalIdentifier``
included); elements live in ``http://egov.bg/RegiX/SignedData`` (:data:`SIGNED_DATA_NS`) and
the SOAP operations in ``http://egov.bg/RegiX`` (:data:`REGIX_NS`), see :class:`RegixCall`.
Payloads — the argument, the echoed request, the response, the signature — are kept as
lossless :class:`XmlPayload` values; their typed models and the operation registry are in
:mod:`eintegr.messages.regix_operations` (re-exported here). Parsing goes through the
hardened :func:`eintegr.xml.parse_xml`; a document that does not fit raises
:class:`~eintegr.errors.MessageError` (``REGIX-ENVELOPE``) with the path and line. The XSDs
(``schemas/xsd/regix``) are eintegr's own; :func:`envelope_problems` checks against them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Self, TypeVar

import pydantic
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, field_validator
from pydantic_core import core_schema

from eintegr.errors import MessageError
from eintegr.messages.regix_operations import (
    GET_ACTUAL_STATE,
    GET_VALID_UIC_INFO,
    PERMANENT_ADDRESS_SEARCH,
    PERSON_DATA_SEARCH,
    REGIX_SCHEMA_FOLDER,
    TEMPORARY_ADDRESS_SEARCH,
    IdentifierCheck,
    IdentifierKind,
    IdentifierProblem,
    Operation,
    RequestPayload,
    ResponsePayload,
    SchemaProblem,
    get_operation,
    operation_for_response,
    operations,
    register_operation,
    regix_catalogue,
    schema_problems,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "GET_ACTUAL_STATE",
    "GET_VALID_UIC_INFO",
    "PERMANENT_ADDRESS_SEARCH",
    "PERSON_DATA_SEARCH",
    "REGIX_NS",
    "REGIX_SCHEMA_FOLDER",
    "SIGNED_DATA_NS",
    "TEMPORARY_ADDRESS_SEARCH",
    "AccessMatrix",
    "AccessMatrixProperty",
    "CallContext",
    "DataContainer",
    "IdentifierCheck",
    "IdentifierKind",
    "IdentifierProblem",
    "Operation",
    "RegixCall",
    "RequestPayload",
    "RequestProcessing",
    "ResponsePayload",
    "ResponseProcessing",
    "SchemaProblem",
    "ServiceCheckResultArgument",
    "ServiceRequestData",
    "ServiceResultData",
    "XmlPayload",
    "envelope_problems",
    "get_operation",
    "operation_for_response",
    "operations",
    "read_request_body",
    "read_response_body",
    "register_operation",
    "regix_catalogue",
    "request_body",
    "response_body",
    "schema_problems",
    "service_request",
]

REGIX_NS: Final = "http://egov.bg/RegiX"
"""The namespace of the V2 entry point's SOAP operations (``Execute``, …)."""
SIGNED_DATA_NS: Final = "http://egov.bg/RegiX/SignedData"
"""The namespace of the V2 data types (``ServiceRequestData``, ``ServiceResultData``, …)."""
_DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
_XSI_NIL: Final = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_WS: Final = " \t\r\n"
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_BAD_XML_CHAR: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _sd(local: str) -> str:
    return f"{{{SIGNED_DATA_NS}}}{local}"


def _rx(local: str) -> str:
    return f"{{{REGIX_NS}}}{local}"


def _tag(node: etree._Element) -> str:
    """The element's name in Clark notation (a comment or PI is named by its kind)."""
    return node.tag if isinstance(node.tag, str) else type(node).__name__


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


class RequestProcessing(enum.Flag):
    """V2 request processing options (``RequestProcessing``, a list of names in XML)."""

    VERIFY = 1
    """verify the request's signature"""
    DECRYPT = 2
    """decrypt the request"""
    TRANSFORM_FROM_PDF = 4
    """take the request from a PDF"""
    ASYNCHRONOUS = 8
    """execute asynchronously: poll with ``CheckResult``"""


class ResponseProcessing(enum.Flag):
    """V2 response processing options (``ResponseProcessing``, a list of names in XML)."""

    ENCRYPT = 1
    """encrypt the response"""
    TRANSFORM_TO_PDF = 2
    """return the response as a PDF"""


_FLAG_NAMES: Final[dict[type[enum.Flag], dict[str, enum.Flag]]] = {
    RequestProcessing: {
        "Verify": RequestProcessing.VERIFY,
        "Decrypt": RequestProcessing.DECRYPT,
        "TransformFromPDF": RequestProcessing.TRANSFORM_FROM_PDF,
        "Asynchronous": RequestProcessing.ASYNCHRONOUS,
    },
    ResponseProcessing: {
        "Encrypt": ResponseProcessing.ENCRYPT,
        "TransformToPDF": ResponseProcessing.TRANSFORM_TO_PDF,
    },
}


def _flags_text(value: enum.Flag) -> str:
    names = _FLAG_NAMES[type(value)]
    return " ".join(name for name, member in names.items() if member in value)


class XmlPayload:
    """One XML element kept losslessly (its bytes, with every namespace declaration in scope
    where it stood), compared by value (C14N 2.0 with comments, prefixes rewritten).

    Build one from an lxml element (copied), from a typed payload model, or from bytes (parsed
    with :func:`eintegr.xml.parse_xml`).
    """

    __slots__ = ("_canonical", "_tag", "_xml")
    _xml: bytes
    _tag: str
    _canonical: bytes | None

    def __init__(self, source: etree._Element | bytes | RequestPayload | ResponsePayload) -> None:
        """:raises eintegr.errors.XmlError: bytes that are not acceptable XML."""
        if isinstance(source, RequestPayload | ResponsePayload):
            source = source.to_element()
        if isinstance(source, bytes | bytearray | memoryview):
            node = parse_xml(bytes(source)).getroot()
        elif isinstance(source, etree._Element) and isinstance(source.tag, str):
            node = source
        else:
            raise TypeError(
                f"an XmlPayload is made from an element, a payload model or bytes, not "
                f"{type(source).__name__}"
            )
        object.__setattr__(self, "_xml", etree.tostring(node, encoding="utf-8", with_tail=False))
        object.__setattr__(self, "_tag", str(node.tag))
        object.__setattr__(self, "_canonical", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("XmlPayload is immutable")

    @property
    def xml(self) -> bytes:
        """The element serialized as UTF-8 (no XML declaration)."""
        return self._xml

    @property
    def tag(self) -> str:
        """The element's name in Clark notation (``{namespace}Local``)."""
        return self._tag

    def element(self) -> etree._Element:
        """A fresh, independent copy of the element."""
        limits = XmlLimits(max_bytes=max(len(self._xml), DEFAULT_LIMITS.max_bytes))
        return parse_xml(self._xml, limits=limits).getroot()

    def canonical(self) -> bytes:
        """The form equality and hashing use (C14N 2.0, comments kept, prefixes rewritten)."""
        if self._canonical is None:
            text = etree.canonicalize(self.element(), with_comments=True, rewrite_prefixes=True)
            object.__setattr__(self, "_canonical", text.encode("utf-8"))
        assert self._canonical is not None
        return self._canonical

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, XmlPayload):
            return NotImplemented
        return self._xml == other._xml or self.canonical() == other.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())

    def __repr__(self) -> str:
        text = self._xml.decode("utf-8", "replace")
        return f"XmlPayload({text[:80]!r}{'…' if len(text) > 80 else ''})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._xml,))

    @classmethod
    def _coerce(cls, value: object) -> XmlPayload:
        if isinstance(value, XmlPayload):
            return value
        if isinstance(value, etree._Element | bytes | RequestPayload | ResponsePayload):
            return cls(value)
        raise TypeError(f"expected an XML element, not {type(value).__name__}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """In Python an instance (elements, models and bytes are converted); in JSON its text."""
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(
                lambda text: cls(text.encode("utf-8")), core_schema.str_schema()
            ),
            python_schema=core_schema.no_info_plain_validator_function(cls._coerce),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.xml.decode("utf-8"), when_used="json"
            ),
        )


# ---------------------------------------------------------------------------------------------
# Reading and writing elements
# ---------------------------------------------------------------------------------------------


def _error(en: str, bg: str, node: etree._Element | None) -> MessageError:
    return MessageError(
        en,
        code="REGIX-ENVELOPE",
        message_bg=bg,
        path=element_path(node) if node is not None else None,
        line=node.sourceline if node is not None else None,
    )


class _Children:
    """Reads the child elements of one element in schema order; nothing is skipped."""

    def __init__(self, parent: etree._Element, namespace: str = SIGNED_DATA_NS) -> None:
        self.parent = parent
        self.namespace = namespace
        self.children = [c for c in parent if isinstance(c.tag, str)]
        self.index = 0
        for name in parent.attrib:
            key = str(name)
            if key not in ("id",) and not key.startswith("{http://www.w3.org/2001/XMLSchema-"):
                raise _error(
                    f"unexpected attribute {key} on {etree.QName(parent).localname}",
                    f"неочакван атрибут {key} на {etree.QName(parent).localname}",
                    parent,
                )
        text = (parent.text or "").strip(_WS)
        if text and self.children:
            raise _error(
                f"{etree.QName(parent).localname} must not contain text",
                f"{etree.QName(parent).localname} не трябва да съдържа текст",
                parent,
            )

    def take(self, local: str, *, required: bool = False, namespace: str | None = None) -> Any:
        """The next child if it is ``local``; else ``None`` (or an error when required)."""
        tag = f"{{{namespace or self.namespace}}}{local}"
        if self.index < len(self.children) and self.children[self.index].tag == tag:
            self.index += 1
            return self.children[self.index - 1]
        if required:
            where = self.children[self.index] if self.index < len(self.children) else None
            found = f", found {etree.QName(where).localname}" if where is not None else ""
            found_bg = f", а е {etree.QName(where).localname}" if where is not None else ""
            parent = etree.QName(self.parent).localname
            raise _error(
                f"{parent} lacks the required element {local}{found}",
                f"{parent} няма задължителния елемент {local}{found_bg}",
                where if where is not None else self.parent,
            )
        return None

    def text(self, local: str, *, required: bool = False) -> str | None:
        """The text of the next child ``local`` (``None`` when absent or ``xsi:nil``)."""
        node = self.take(local, required=required)
        if node is None or _nil(node):
            return None
        _leaf(node)
        return node.text or ""

    def value(self, local: str, parse: Callable[[str, etree._Element], Any]) -> Any:
        """The next required child ``local`` parsed by ``parse``."""
        node = self.take(local, required=True)
        _leaf(node)
        return parse(node.text or "", node)

    def done(self) -> None:
        """Raise unless every child was read."""
        if self.index < len(self.children):
            extra = self.children[self.index]
            parent = etree.QName(self.parent).localname
            raise _error(
                f"unexpected element {_tag(extra)} in {parent}",
                f"неочакван елемент {_tag(extra)} в {parent}",
                extra,
            )


def _nil(node: etree._Element) -> bool:
    return (node.get(_XSI_NIL) or "").strip(_WS) in ("true", "1")


def _leaf(node: etree._Element) -> None:
    if any(isinstance(c.tag, str) for c in node):
        name = etree.QName(node).localname
        raise _error(
            f"{name} must hold text, not elements",
            f"{name} трябва да съдържа текст, а не елементи",
            node,
        )


def _boolean(text: str, node: etree._Element) -> bool:
    value = text.strip(_WS)
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    name = etree.QName(node).localname
    raise _error(
        f"{name} must be true or false, not {value!r}",
        f"{name} трябва да е true или false, а не {value!r}",
        node,
    )


def _decimal(text: str, node: etree._Element) -> Decimal:
    value = text.strip(_WS)
    if _DECIMAL.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            pass
    name = etree.QName(node).localname
    raise _error(
        f"{name} must be a decimal number, not {value!r}",
        f"{name} трябва да е десетично число, а не {value!r}",
        node,
    )


def _flags(kind: type[enum.Flag]) -> Callable[[str, etree._Element], enum.Flag]:
    def parse(text: str, node: etree._Element) -> enum.Flag:
        names = _FLAG_NAMES[kind]
        value = kind(0)
        for token in text.split():
            if token not in names:
                name = etree.QName(node).localname
                allowed = ", ".join(names)
                raise _error(
                    f"{name} holds {token!r}; allowed: {allowed}",
                    f"{name} съдържа {token!r}; допустими: {allowed}",
                    node,
                )
            value |= names[token]
        return value

    return parse


def _only_child(container: etree._Element, *, required: bool) -> etree._Element | None:
    children = [c for c in container if isinstance(c.tag, str)]
    name = etree.QName(container).localname
    if (container.text or "").strip(_WS) or any((c.tail or "").strip(_WS) for c in children):
        raise _error(
            f"{name} must hold one element, not text",
            f"{name} трябва да съдържа един елемент, а не текст",
            container,
        )
    if len(children) > 1 or (required and not children):
        raise _error(
            f"{name} must hold exactly one element, not {len(children)}",
            f"{name} трябва да съдържа точно един елемент, а не {len(children)}",
            container,
        )
    return children[0] if children else None


def _sub(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, _sd(local))
    if text is not None:
        node.text = text
    return node


def _optional(parent: etree._Element, local: str, value: str | None) -> None:
    if value is not None:
        _sub(parent, local, value)


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _check_text(value: str | None) -> str | None:
    if value is not None and _BAD_XML_CHAR.search(value):
        raise ValueError("the text contains a character XML 1.0 cannot carry")
    return value


class _Envelope(BaseModel):
    """Common behaviour: immutable values; XML in and out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    _ROOT: ClassVar[str] = ""

    @classmethod
    def from_element(cls, element: etree._Element) -> Self:
        """Bind ``element`` (not changed).

        :raises MessageError: ``REGIX-ENVELOPE`` when it does not fit (``path``, ``line``).
        """
        if element.tag != _sd(cls._ROOT):
            raise _error(
                f"expected the element {_sd(cls._ROOT)}, not {_tag(element)}",
                f"очаква се елементът {_sd(cls._ROOT)}, а не {_tag(element)}",
                element,
            )
        return cls._read(element)

    @classmethod
    def from_xml(cls, data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> Self:
        """Parse ``data`` with :func:`eintegr.xml.parse_xml` and bind it.

        :raises eintegr.errors.XmlError: the bytes are not acceptable XML.
        :raises MessageError: see :meth:`from_element`.
        """
        return cls.from_element(parse_xml(data, limits=limits).getroot())

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        raise NotImplementedError

    def to_element(self) -> etree._Element:
        """A new element holding this value (namespace prefix-free: default namespace)."""
        root = etree.Element(_sd(self._ROOT), nsmap={None: SIGNED_DATA_NS})
        self._write(root)
        return root

    def _write(self, root: etree._Element) -> None:
        raise NotImplementedError

    def to_xml(self) -> bytes:
        """UTF-8 bytes without an XML declaration."""
        return etree.tostring(self.to_element(), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------------


class CallContext(_Envelope):
    """``CallContext``: the context of a call, kept in RegiX's log.

    ``service_uri`` identifies the case (e.g. the case file's number), ``service_type`` the
    kind of service or check, ``law_reason`` the legal ground. The employee fields say who
    asks; ``responsible_person_identifier`` is for calls an information system makes on its
    own. The spelling ``employee_aditional_identifier`` follows the schema's
    ``EmployeeAditionalIdentifier``.
    """

    _ROOT: ClassVar[str] = "CallContext"

    service_uri: str = Field(min_length=1)
    service_type: str = Field(min_length=1)
    law_reason: str = Field(min_length=1)
    employee_identifier: str | None = None
    employee_names: str | None = None
    employee_aditional_identifier: str | None = None
    employee_position: str | None = None
    administration_oid: str | None = None
    administration_name: str | None = None
    responsible_person_identifier: str | None = None
    remark: str | None = None

    _check = field_validator("*", mode="after")(_check_text)

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        values = {
            "service_uri": c.text("ServiceURI", required=True),
            "service_type": c.text("ServiceType", required=True),
            "employee_identifier": c.text("EmployeeIdentifier"),
            "employee_names": c.text("EmployeeNames"),
            "employee_aditional_identifier": c.text("EmployeeAditionalIdentifier"),
            "employee_position": c.text("EmployeePosition"),
            "administration_oid": c.text("AdministrationOId"),
            "administration_name": c.text("AdministrationName"),
            "responsible_person_identifier": c.text("ResponsiblePersonIdentifier"),
            "law_reason": c.text("LawReason", required=True),
            "remark": c.text("Remark"),
        }
        c.done()
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        _sub(root, "ServiceURI", self.service_uri)
        _sub(root, "ServiceType", self.service_type)
        _optional(root, "EmployeeIdentifier", self.employee_identifier)
        _optional(root, "EmployeeNames", self.employee_names)
        _optional(root, "EmployeeAditionalIdentifier", self.employee_aditional_identifier)
        _optional(root, "EmployeePosition", self.employee_position)
        _optional(root, "AdministrationOId", self.administration_oid)
        _optional(root, "AdministrationName", self.administration_name)
        _optional(root, "ResponsiblePersonIdentifier", self.responsible_person_identifier)
        _sub(root, "LawReason", self.law_reason)
        _optional(root, "Remark", self.remark)


_M = TypeVar("_M", bound=BaseModel)


def _validated(cls: type[_M], values: dict[str, Any], element: etree._Element) -> _M:
    try:
        return cls(**values)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _error(
            f"{etree.QName(element).localname}: {where}: {first['msg']}",
            f"{etree.QName(element).localname}: {where}: невалидна стойност ({first['msg']})",
            element,
        ) from None


class ServiceRequestData(_Envelope):
    """``ServiceRequestData``: one call of an operation.

    :ivar operation: the operation's full key.
    :ivar argument: the argument element (in the operation's namespace).
    :ivar call_context: who asks and why.
    :ivar sign_result: ask RegiX to sign the result (XAdES over ``#data``).
    :ivar return_access_matrix: ask for the access matrix the data was filtered with.
    :ivar request_processing: V2 options; :attr:`RequestProcessing.ASYNCHRONOUS` makes the
        call asynchronous.
    :ivar response_processing: V2 options.
    :ivar eid_token, callback_url, employee_egn, citizen_egn: optional, as in the contract
        (the ЕГН fields are passed to the primary register, not logged by RegiX).
    """

    _ROOT: ClassVar[str] = "ServiceRequestData"

    operation: str = Field(min_length=1)
    argument: XmlPayload
    call_context: CallContext
    sign_result: bool = True
    return_access_matrix: bool = False
    request_processing: RequestProcessing = RequestProcessing(0)
    response_processing: ResponseProcessing = ResponseProcessing(0)
    eid_token: str | None = None
    callback_url: str | None = None
    employee_egn: str | None = None
    citizen_egn: str | None = None

    _check = field_validator(
        "operation", "eid_token", "callback_url", "employee_egn", "citizen_egn", mode="after"
    )(_check_text)

    @property
    def asynchronous(self) -> bool:
        """Whether RegiX is asked to execute the call asynchronously."""
        return RequestProcessing.ASYNCHRONOUS in self.request_processing

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        request_node = c.take("RequestProcessing")
        response_node = c.take("ResponseProcessing")
        operation = c.text("Operation", required=True)
        argument_node = c.take("Argument", required=True)
        _Children(argument_node)  # no attributes
        argument = _only_child(argument_node, required=True)
        values: dict[str, Any] = {
            "request_processing": (
                _flags(RequestProcessing)(request_node.text or "", request_node)
                if request_node is not None
                else RequestProcessing(0)
            ),
            "response_processing": (
                _flags(ResponseProcessing)(response_node.text or "", response_node)
                if response_node is not None
                else ResponseProcessing(0)
            ),
            "operation": operation,
            "argument": XmlPayload(argument) if argument is not None else None,
            "eid_token": c.text("EIDToken"),
            "call_context": CallContext._read(c.take("CallContext", required=True)),
            "callback_url": c.text("CallbackURL"),
            "employee_egn": c.text("EmployeeEGN"),
            "citizen_egn": c.text("CitizenEGN"),
            "sign_result": c.value("SignResult", _boolean),
            "return_access_matrix": c.value("ReturnAccessMatrix", _boolean),
        }
        c.done()
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        if self.request_processing:
            _sub(root, "RequestProcessing", _flags_text(self.request_processing))
        if self.response_processing:
            _sub(root, "ResponseProcessing", _flags_text(self.response_processing))
        _sub(root, "Operation", self.operation)
        _sub(root, "Argument").append(self.argument.element())
        _optional(root, "EIDToken", self.eid_token)
        context = _sub(root, "CallContext")
        self.call_context._write(context)
        _optional(root, "CallbackURL", self.callback_url)
        _optional(root, "EmployeeEGN", self.employee_egn)
        _optional(root, "CitizenEGN", self.citizen_egn)
        _sub(root, "SignResult", _bool_text(self.sign_result))
        _sub(root, "ReturnAccessMatrix", _bool_text(self.return_access_matrix))


def service_request(
    operation: Operation | str,
    argument: RequestPayload | etree._Element | bytes,
    context: CallContext,
    *,
    sign_result: bool = True,
    return_access_matrix: bool = False,
    asynchronous: bool = False,
    eid_token: str | None = None,
    callback_url: str | None = None,
    employee_egn: str | None = None,
    citizen_egn: str | None = None,
    check_identifiers: bool = True,
) -> ServiceRequestData:
    """Build the :class:`ServiceRequestData` for one call, checked before it leaves.

    :param operation: an :class:`Operation`, or a registered operation's key or short name.
    :param argument: the typed argument, or its XML (element or bytes).
    :param asynchronous: ask for asynchronous execution (poll with ``CheckResult``).
    :param check_identifiers: refuse an argument whose ЕГН/ЕИК fails its check digits.
    :raises eintegr.errors.RegistryError: an unknown operation name.
    :raises MessageError: ``REGIX-ARGUMENT``: the argument is not the operation's, or is not
        valid against its XSD (every problem listed).
    :raises eintegr.errors.IdentifierError: an identifier in the argument is invalid.
    """
    op = operation if isinstance(operation, Operation) else get_operation(operation)
    element = op.argument_element(argument)
    problems = op.request_problems(element)
    if problems:
        listed = "; ".join(p.message for p in problems)
        first = problems[0]
        raise MessageError(
            f"the argument of {op.name} is not valid: {listed}",
            code="REGIX-ARGUMENT",
            message_bg=f"Аргументът на {op.name} не е валиден: {listed}",
            path=first.path,
            line=first.line,
        )
    if check_identifiers:
        op.check_request_identifiers(element)
    return ServiceRequestData(
        operation=op.key,
        argument=XmlPayload(element),
        call_context=context,
        sign_result=sign_result,
        return_access_matrix=return_access_matrix,
        request_processing=(
            RequestProcessing.ASYNCHRONOUS if asynchronous else RequestProcessing(0)
        ),
        eid_token=eid_token,
        callback_url=callback_url,
        employee_egn=employee_egn,
        citizen_egn=citizen_egn,
    )


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


class AccessMatrixProperty(_Envelope):
    """``AMPropertyType``: whether the caller may see one characteristic."""

    _ROOT: ClassVar[str] = "Property"

    has_access: bool
    name: str

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        values = {
            "has_access": c.value("HasAccess", _boolean),
            "name": c.text("Name", required=True),
        }
        c.done()
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        _sub(root, "HasAccess", _bool_text(self.has_access))
        _sub(root, "Name", self.name)


class AccessMatrix(_Envelope):
    """``Matrix``: the access matrix the data was filtered with."""

    _ROOT: ClassVar[str] = "Matrix"

    has_access: bool
    name: str
    properties: tuple[AccessMatrixProperty, ...] = ()
    id: str | None = None

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        has_access = c.value("HasAccess", _boolean)
        name = c.text("Name", required=True)
        holder = c.take("Properties", required=True)
        c.done()
        p = _Children(holder)
        properties = []
        while (node := p.take("Property")) is not None:
            properties.append(AccessMatrixProperty._read(node))
        p.done()
        if not properties:
            raise _error(
                "Properties must hold at least one Property",
                "Properties трябва да съдържа поне един Property",
                holder,
            )
        values = {
            "has_access": has_access,
            "name": name,
            "properties": tuple(properties),
            "id": element.get("id"),
        }
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        if self.id is not None:
            root.set("id", self.id)
        _sub(root, "HasAccess", _bool_text(self.has_access))
        _sub(root, "Name", self.name)
        holder = _sub(root, "Properties")
        for prop in self.properties:
            prop._write(_sub(holder, "Property"))


class DataContainer(_Envelope):
    """``Data``: what a result carries — the echoed argument (``request``), the register's
    ``response`` and the access ``matrix``. ``id`` (``"data"``) is what the result's
    signature references."""

    _ROOT: ClassVar[str] = "Data"

    request: XmlPayload | None = None
    response: XmlPayload | None = None
    matrix: AccessMatrix | None = None
    id: str | None = "data"
    request_id: str | None = "request"
    response_id: str | None = "response"

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        request_node = c.take("Request", required=True)
        response_node = c.take("Response", required=True)
        matrix_node = c.take("Matrix")
        c.done()
        for node in (request_node, response_node):
            _Children(node)  # attributes
        request = _only_child(request_node, required=False)
        response = _only_child(response_node, required=False)
        values = {
            "request": XmlPayload(request) if request is not None else None,
            "response": XmlPayload(response) if response is not None else None,
            "matrix": (
                AccessMatrix._read(matrix_node)
                if matrix_node is not None and not _nil(matrix_node)
                else None
            ),
            "id": element.get("id"),
            "request_id": request_node.get("id"),
            "response_id": response_node.get("id"),
        }
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        if self.id is not None:
            root.set("id", self.id)
        request = _sub(root, "Request")
        if self.request_id is not None:
            request.set("id", self.request_id)
        if self.request is not None:
            request.append(self.request.element())
        response = _sub(root, "Response")
        if self.response_id is not None:
            response.set("id", self.response_id)
        if self.response is not None:
            response.append(self.response.element())
        if self.matrix is not None:
            self.matrix._write(_sub(root, "Matrix"))


class ServiceResultData(_Envelope):
    """``ServiceResultData``: RegiX's answer to ``Execute`` or ``CheckResult``.

    :ivar is_ready: whether the register's data is there (``False`` while an asynchronous call
        is running).
    :ivar data: the :class:`DataContainer` (when ready and without error).
    :ivar signature: the XAdES ``ds:Signature`` over ``#data`` (when the caller asked for a
        signed result); the model never claims it is valid — see
        :func:`eintegr.transport.regix.verify_result`.
    :ivar has_error, error: whether the call failed, and why (free text from RegiX or the
        register).
    :ivar service_call_id, verification_code: identify an asynchronous call for
        ``CheckResult`` and ``AcknowledgeResultReceived``.
    """

    _ROOT: ClassVar[str] = "ServiceResultData"

    is_ready: bool
    data: DataContainer | None = None
    signature: XmlPayload | None = None
    has_error: bool = False
    error: str | None = None
    service_call_id: Decimal | None = None
    verification_code: str | None = None

    _check = field_validator("error", "verification_code", mode="after")(_check_text)

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        is_ready = c.value("IsReady", _boolean)
        data_node = c.take("Data")
        signature_node = c.take("Signature", namespace=_DS_NS)
        has_error = c.value("HasError", _boolean)
        error = c.text("Error")
        call_node = c.take("ServiceCallID")
        verification_code = c.text("VerificationCode")
        c.done()
        if call_node is not None:
            _leaf(call_node)
        values = {
            "is_ready": is_ready,
            "data": (
                DataContainer._read(data_node)
                if data_node is not None and not _nil(data_node)
                else None
            ),
            "signature": XmlPayload(signature_node) if signature_node is not None else None,
            "has_error": has_error,
            "error": error,
            "service_call_id": (
                _decimal(call_node.text or "", call_node) if call_node is not None else None
            ),
            "verification_code": verification_code,
        }
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        _sub(root, "IsReady", _bool_text(self.is_ready))
        if self.data is not None:
            self.data._write(_sub(root, "Data"))
        if self.signature is not None:
            root.append(self.signature.element())
        _sub(root, "HasError", _bool_text(self.has_error))
        _optional(root, "Error", self.error)
        if self.service_call_id is not None:
            _sub(root, "ServiceCallID", format(self.service_call_id, "f"))
        _optional(root, "VerificationCode", self.verification_code)


class ServiceCheckResultArgument(_Envelope):
    """``ServiceCheckResultArgument``: which asynchronous call to poll or acknowledge."""

    _ROOT: ClassVar[str] = "ServiceCheckResultArgument"

    service_call_id: Decimal
    verification_code: str | None = None

    @classmethod
    def _read(cls, element: etree._Element) -> Self:
        c = _Children(element)
        values = {
            "service_call_id": c.value("ServiceCallID", _decimal),
            "verification_code": c.text("VerificationCode"),
        }
        c.done()
        return _validated(cls, values, element)

    def _write(self, root: etree._Element) -> None:
        _sub(root, "ServiceCallID", format(self.service_call_id, "f"))
        _optional(root, "VerificationCode", self.verification_code)


def envelope_problems(element: etree._Element) -> list[SchemaProblem]:
    """XSD problems of a ``ServiceRequestData``, ``ServiceResultData`` or
    ``ServiceCheckResultArgument`` element (eintegr's own envelope XSD; empty when valid)."""
    return schema_problems(element, _tag(element))


# ---------------------------------------------------------------------------------------------
# SOAP bodies of the V2 entry point
# ---------------------------------------------------------------------------------------------


class RegixCall(enum.Enum):
    """The operations of ``IRegiXEntryPointV2`` a client calls, with their SOAP shape.

    ``Execute(request: ServiceRequestData) -> ServiceResultData``,
    ``CheckResult(argument: ServiceCheckResultArgument) -> ServiceResultData``,
    ``AcknowledgeResultReceived(argument: ServiceCheckResultArgument) -> (nothing)``.
    """

    EXECUTE = ("Execute", "request", "ExecuteResult", ServiceRequestData)
    CHECK_RESULT = ("CheckResult", "argument", "CheckResultResult", ServiceCheckResultArgument)
    ACKNOWLEDGE = ("AcknowledgeResultReceived", "argument", None, ServiceCheckResultArgument)

    def __init__(
        self, local: str, parameter: str, result: str | None, payload: type[_Envelope]
    ) -> None:
        self.local = local
        self.parameter = parameter
        self.result = result
        self.payload = payload

    @property
    def soap_action(self) -> str:
        """The ``SOAPAction`` HTTP header value (WCF: ``{namespace}/{contract}/{name}``)."""
        return f"{REGIX_NS}/IRegiXEntryPointV2/{self.local}"

    @property
    def request_tag(self) -> str:
        """The body element of the request."""
        return _rx(self.local)

    @property
    def response_tag(self) -> str:
        """The body element of the response."""
        return _rx(f"{self.local}Response")


def request_body(
    call: RegixCall, payload: ServiceRequestData | ServiceCheckResultArgument
) -> etree._Element:
    """The SOAP body element of ``call`` carrying ``payload``."""
    if not isinstance(payload, call.payload):
        raise TypeError(f"{call.local} carries a {call.payload.__name__}")
    body = etree.Element(call.request_tag, nsmap={"rx": REGIX_NS})
    etree.SubElement(body, _rx(call.parameter)).append(payload.to_element())
    return body


def read_request_body(body: etree._Element) -> tuple[RegixCall, etree._Element]:
    """Which call a SOAP body element is, and the payload element it carries (for servers).

    :raises MessageError: ``REGIX-SOAP-BODY`` when it is not a V2 entry point call.
    """
    call = next((c for c in RegixCall if c.request_tag == body.tag), None)
    if call is None:
        raise MessageError(
            f"{_tag(body)} is not an operation of the RegiX entry point V2",
            code="REGIX-SOAP-BODY",
            message_bg=f"{_tag(body)} не е операция на входната точка RegiX V2",
            line=body.sourceline,
        )
    return call, _unwrap(body, call.parameter, _sd(call.payload._ROOT))


def response_body(
    call: RegixCall, result: ServiceResultData | etree._Element | None
) -> etree._Element:
    """The SOAP body element answering ``call`` (for servers); ``result`` is the
    ``ServiceResultData`` (model or element, e.g. a signed one), ``None`` for
    ``AcknowledgeResultReceived``."""
    body = etree.Element(call.response_tag, nsmap={"rx": REGIX_NS})
    if call.result is None:
        if result is not None:
            raise ValueError(f"{call.local} answers nothing")
        return body
    if result is None:
        raise ValueError(f"{call.local} answers a ServiceResultData")
    element = result.to_element() if isinstance(result, ServiceResultData) else result
    etree.SubElement(body, _rx(call.result)).append(element)
    return body


def read_response_body(call: RegixCall, body: etree._Element) -> etree._Element | None:
    """The ``ServiceResultData`` element in the SOAP body answering ``call`` (``None`` for
    ``AcknowledgeResultReceived``).

    :raises MessageError: ``REGIX-SOAP-BODY`` when the body is not that answer.
    """
    if body.tag != call.response_tag:
        raise MessageError(
            f"expected {call.response_tag} in the SOAP body, not {_tag(body)}",
            code="REGIX-SOAP-BODY",
            message_bg=f"очаква се {call.response_tag} в тялото на SOAP, а не {_tag(body)}",
            line=body.sourceline,
        )
    if call.result is None:
        return None
    return _unwrap(body, call.result, _sd("ServiceResultData"))


def _unwrap(body: etree._Element, wrapper: str, inner: str) -> etree._Element:
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1 or children[0].tag != _rx(wrapper):
        raise MessageError(
            f"{etree.QName(body).localname} must hold exactly one {wrapper} element",
            code="REGIX-SOAP-BODY",
            message_bg=f"{etree.QName(body).localname} трябва да съдържа точно един елемент "
            f"{wrapper}",
            line=body.sourceline,
        )
    found = [c for c in children[0] if isinstance(c.tag, str)]
    if len(found) != 1 or found[0].tag != inner:
        raise MessageError(
            f"{wrapper} must hold exactly one {inner} element",
            code="REGIX-SOAP-BODY",
            message_bg=f"{wrapper} трябва да съдържа точно един елемент {inner}",
            line=children[0].sourceline,
        )
    return found[0]
