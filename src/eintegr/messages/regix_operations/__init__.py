"""RegiX operations: the registry, and typed arguments and responses per adapter.

An :class:`Operation` names a RegiX operation by its full key (``TechnoLogica.RegiX.<Adapter>
.APIService.<Contract>.<Name>``), its argument and response root elements, their typed
models, the identifiers inside them whose check digits are verified, and the XSDs they are
validated against. The bundled operations:

=============================  ==========================  ====================================
name                           adapter                     what it answers
=============================  ==========================  ====================================
``PersonDataSearch``           ``GraoNBDAdapter``          a person's data by ЕГН
``PermanentAddressSearch``     ``GraoPNAAdapter``          the permanent address at a date
``TemporaryAddressSearch``     ``GraoPNAAdapter``          the present address at a date
``GetActualState``             ``AVTRAdapter``             a trader's actual state by ЕИК
``GetValidUICInfo``            ``AVTRAdapter``             whether an ЕИК is registered
=============================  ==========================  ====================================

Adding an operation (see ``docs/regix.md``): write its XSDs into a folder, write two
pydantic-xml models (a :class:`RequestPayload` and a :class:`ResponsePayload`) from them, and
:func:`register_operation` an :class:`Operation` with ``schemas=SchemaCatalogue.from_folder
(folder)``. An operation may also be registered without models (``request_root`` and
``response_root`` only): its payloads are then exchanged as XML.
"""

from __future__ import annotations

import copy
import enum
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from lxml import etree
from pydantic_xml.fields import extract_field_xml_entity_info

from eintegr.errors import IdentifierError, MessageError, RegistryError
from eintegr.identifiers import Egn, Eik, Lnch
from eintegr.messages.regix_operations._base import (
    RequestPayload,
    ResponsePayload,
    XsdDate,
    XsdDateTime,
    normalized_copy,
)
from eintegr.messages.regix_operations._schemas import (
    REGIX_SCHEMA_FOLDER,
    SchemaProblem,
    regix_catalogue,
    schema_problems,
)
from eintegr.messages.regix_operations.av_tr import (
    ActualStateRequest,
    ActualStateResponse,
    ValidUICRequest,
    ValidUICResponse,
)
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest, PersonDataResponse
from eintegr.messages.regix_operations.grao_pna import (
    PermanentAddressRequest,
    PermanentAddressResponse,
    TemporaryAddressRequest,
    TemporaryAddressResponse,
)
from eintegr.schemas import SchemaCatalogue
from eintegr.xml import element_path, parse_xml

__all__ = [
    "GET_ACTUAL_STATE",
    "GET_VALID_UIC_INFO",
    "PERMANENT_ADDRESS_SEARCH",
    "PERSON_DATA_SEARCH",
    "REGIX_SCHEMA_FOLDER",
    "TEMPORARY_ADDRESS_SEARCH",
    "IdentifierCheck",
    "IdentifierKind",
    "IdentifierProblem",
    "Operation",
    "RequestPayload",
    "ResponsePayload",
    "SchemaProblem",
    "XsdDate",
    "XsdDateTime",
    "get_operation",
    "normalized_copy",
    "operation_for_response",
    "operations",
    "register_operation",
    "regix_catalogue",
    "schema_problems",
]

_WS: Final = " \t\r\n"


# --- identifiers inside payloads -------------------------------------------------------------


class IdentifierKind(enum.StrEnum):
    """What an identifier in a payload must be."""

    EGN = "egn"
    """an ЕГН"""
    PERSONAL = "personal"
    """an ЕГН or an ЛНЧ"""
    EIK = "eik"
    """a 9- or 13-digit ЕИК/БУЛСТАТ"""

    def problem(self, value: str) -> IdentifierError | None:
        """Why ``value`` is not an identifier of this kind (``None`` when it is one)."""
        try:
            if self is IdentifierKind.EIK:
                Eik.parse(value)
            else:
                Egn.parse(value)
        except IdentifierError as exc:
            if self is IdentifierKind.PERSONAL:
                try:
                    Lnch.parse(value)
                except IdentifierError:
                    return exc
                return None
            return exc
        return None


KindOf = Callable[[etree._Element], IdentifierKind | None]
"""Decides the kind of an identifier from its element (``None``: do not check it)."""


@dataclass(frozen=True, slots=True)
class IdentifierCheck:
    """An identifier inside a payload whose check digits are verified.

    :param path: local names from the payload's root element to the identifier's element,
        joined by ``/`` (``"EGN"``, ``"Details/Detail/Subject/Indent"``); every match counts.
    :param kind: an :class:`IdentifierKind`, or a function deciding it from the element (the
        commercial register says in ``IndentType`` whether ``Indent`` is an ЕГН or an ЕИК).
    """

    path: str
    kind: IdentifierKind | KindOf

    def elements(self, root: etree._Element) -> list[etree._Element]:
        """The elements of ``root`` this check applies to."""
        steps = [s for s in self.path.split("/") if s]
        if not steps or any(not s.replace("_", "a").isalnum() for s in steps):
            raise ValueError(f"invalid identifier path {self.path!r}")
        xpath = "/".join(f"*[local-name()='{step}']" for step in steps)
        found = root.xpath(xpath)
        assert isinstance(found, list)
        return [node for node in found if isinstance(node, etree._Element)]


@dataclass(frozen=True, slots=True)
class IdentifierProblem:
    """An identifier in a payload that fails its check digits or format.

    ``code`` is the identifier's error code (``ID-EGN``, ``ID-LNCH``, ``ID-EIK``); the
    messages say why, in English and Bulgarian.
    """

    kind: IdentifierKind
    value: str
    code: str
    message: str
    message_bg: str
    path: str
    line: int | None


def _indent_kind(element: etree._Element) -> IdentifierKind | None:
    """The kind of a commercial-register ``Subject/Indent`` from its sibling ``IndentType``."""
    parent = element.getparent()
    if parent is None:
        return None
    for sibling in parent:
        if isinstance(sibling.tag, str) and etree.QName(sibling).localname == "IndentType":
            text = (sibling.text or "").strip(_WS)
            if text == "EGN":
                return IdentifierKind.PERSONAL
            if text == "UIC":
                return IdentifierKind.EIK
    return None


# --- operations ------------------------------------------------------------------------------


def _clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One RegiX operation.

    :param key: the full operation key, sent in ``ServiceRequestData/Operation``.
    :param request_root: the argument's root element (``{namespace}Local``); taken from
        ``request_model`` when omitted.
    :param response_root: the response's root element; taken from ``response_model`` when
        omitted.
    :param request_model: the typed argument, or ``None`` (XML only).
    :param response_model: the typed response, or ``None`` (XML only).
    :param title_bg: the register's name for the operation.
    :param title_en: an English name.
    :param request_checks: identifiers in the argument; an invalid one is refused before
        sending (:class:`~eintegr.errors.IdentifierError`).
    :param response_checks: identifiers in the response; an invalid one is reported as a
        warning, never refused (register data is not always clean).
    :param schemas: the XSDs of the payloads; ``None`` for eintegr's bundled RegiX XSDs.
    """

    key: str
    request_root: str = ""
    response_root: str = ""
    request_model: type[RequestPayload] | None = None
    response_model: type[ResponsePayload] | None = None
    title_bg: str = ""
    title_en: str = ""
    request_checks: tuple[IdentifierCheck, ...] = ()
    response_checks: tuple[IdentifierCheck, ...] = ()
    schemas: SchemaCatalogue | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        parts = self.key.split(".")
        if len(parts) < 3 or not all(p.isidentifier() for p in parts):
            raise ValueError(
                f"{self.key!r} is not a RegiX operation key (Namespace.Contract.Operation)"
            )
        for attribute, model in (
            ("request_root", self.request_model),
            ("response_root", self.response_model),
        ):
            given: str = getattr(self, attribute)
            if model is not None:
                if given and given != model.root_tag():
                    raise ValueError(
                        f"{attribute} {given!r} differs from {model.__name__}'s element "
                        f"{model.root_tag()!r}"
                    )
                object.__setattr__(self, attribute, model.root_tag())
            elif not given.startswith("{"):
                raise ValueError(f"{attribute} must be a namespaced element, {{namespace}}Local")

    @property
    def name(self) -> str:
        """The short name (the key's last part), e.g. ``PersonDataSearch``."""
        return self.key.rpartition(".")[2]

    @property
    def contract(self) -> str:
        """The key without the operation's name (the adapter's service contract)."""
        return self.key.rpartition(".")[0]

    @property
    def adapter(self) -> str:
        """The adapter, e.g. ``GraoNBDAdapter`` (the key's third part)."""
        parts = self.key.split(".")
        return parts[2] if len(parts) > 3 else parts[0]

    @property
    def catalogue(self) -> SchemaCatalogue:
        """The XSDs of this operation's payloads."""
        return self.schemas or regix_catalogue()

    # --- the argument ---

    def argument_element(self, argument: RequestPayload | etree._Element | bytes) -> etree._Element:
        """The argument as a new element: a model is serialized, an element copied, bytes
        parsed with the hardened parser.

        :raises MessageError: ``REGIX-ARGUMENT`` when it is not this operation's argument.
        :raises eintegr.errors.XmlError: bytes that are not acceptable XML.
        """
        if isinstance(argument, RequestPayload):
            if self.request_model is not None and not isinstance(argument, self.request_model):
                raise MessageError(
                    f"{self.name} takes a {self.request_model.__name__}, not "
                    f"{type(argument).__name__}",
                    code="REGIX-ARGUMENT",
                    message_bg=f"{self.name} приема {self.request_model.__name__}, а не "
                    f"{type(argument).__name__}",
                )
            element = argument.to_element()
        elif isinstance(argument, etree._Element):
            copied = etree.tostring(argument, encoding="utf-8", with_tail=False)
            element = parse_xml(copied).getroot()
        elif isinstance(argument, bytes | bytearray):
            element = parse_xml(bytes(argument)).getroot()
        else:
            raise TypeError(
                f"the argument must be a RequestPayload, an lxml element or bytes, not "
                f"{type(argument).__name__}"
            )
        if element.tag != self.request_root:
            found = str(element.tag)
            raise MessageError(
                f"{self.name} takes the element {self.request_root}, not {found}",
                code="REGIX-ARGUMENT",
                message_bg=f"{self.name} приема елемента {self.request_root}, а не {found}",
            )
        return element

    def build_argument(self, values: Mapping[str, str]) -> etree._Element:
        """A flat argument from element values by local name (``{"EGN": "…"}``), in the
        model's order — for command lines and forms. Needs a ``request_model``.

        :raises MessageError: ``REGIX-ARGUMENT`` for an unknown name, a missing required
            value or a value the model refuses.
        """
        model = self.request_model
        if model is None:
            raise MessageError(
                f"{self.name} has no argument model: give the argument as XML",
                code="REGIX-ARGUMENT",
                message_bg=f"{self.name} няма модел на аргумента: подайте го като XML",
            )
        namespace = etree.QName(self.request_root).namespace or ""
        names = _flat_fields(model)
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise MessageError(
                f"{self.name} has no argument element {', '.join(unknown)}; it takes "
                f"{', '.join(names)}",
                code="REGIX-ARGUMENT",
                message_bg=f"{self.name} няма елемент {', '.join(unknown)} в аргумента; "
                f"приема {', '.join(names)}",
            )
        root = etree.Element(self.request_root, nsmap={None: namespace})
        for name in names:
            if name in values:
                etree.SubElement(root, _clark(namespace, name)).text = values[name]
        model.from_element(root)  # the model's checks: missing or malformed values
        return root

    def request_problems(self, element: etree._Element) -> list[SchemaProblem]:
        """XSD problems of an argument element (empty when valid)."""
        return schema_problems(element, self.request_root, self.catalogue)

    def check_request_identifiers(self, element: etree._Element) -> None:
        """Refuse an argument whose identifiers fail their check digits.

        :raises IdentifierError: the first invalid identifier (``path`` says where).
        """
        problems = _identifier_problems(_standalone(element), self.request_checks)
        if problems:
            first = problems[0]
            raise IdentifierError(
                f"{first.message} (at {first.path})",
                code=first.code,
                message_bg=f"{first.message_bg} (при {first.path})",
                path=first.path,
                line=first.line,
            )

    # --- the response ---

    def response_problems(self, element: etree._Element) -> list[SchemaProblem]:
        """XSD problems of a response element (empty when valid)."""
        return schema_problems(element, self.response_root, self.catalogue)

    def response_identifier_problems(self, element: etree._Element) -> list[IdentifierProblem]:
        """The identifiers in a response that fail their check digits or format (paths start
        at the response element)."""
        return _identifier_problems(_standalone(element), self.response_checks)

    def parse_response(self, element: etree._Element) -> ResponsePayload | None:
        """The typed response (``None`` when the operation has no response model).

        :raises MessageError: the element is not this operation's response, or cannot be
            bound.
        """
        if self.response_model is None:
            return None
        return self.response_model.from_element(element)


def _standalone(element: etree._Element) -> etree._Element:
    """A copy of ``element`` as a root of its own (source lines kept)."""
    root = copy.deepcopy(element)
    root.tail = None
    return root


def _flat_fields(model: type[RequestPayload]) -> list[str]:
    """The element names of a model's fields, in order."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        entity = extract_field_xml_entity_info(info)
        names.append((entity.path if entity is not None else None) or name)
    return names


def _identifier_problems(
    root: etree._Element, checks: tuple[IdentifierCheck, ...]
) -> list[IdentifierProblem]:
    problems: list[IdentifierProblem] = []
    for check in checks:
        for node in check.elements(root):
            value = (node.text or "").strip(_WS)
            if not value:
                continue
            kind = check.kind if isinstance(check.kind, IdentifierKind) else check.kind(node)
            if kind is None:
                continue
            error = kind.problem(value)
            if error is not None:
                problems.append(
                    IdentifierProblem(
                        kind=kind,
                        value=value,
                        code=error.code,
                        message=f"{error.message}: {value}",
                        message_bg=f"{error.message_bg}: {value}",
                        path=element_path(node),
                        line=node.sourceline,
                    )
                )
    return problems


# --- the registry ----------------------------------------------------------------------------

_EGN_CHECK: Final = (IdentifierCheck("EGN", IdentifierKind.EGN),)
_UIC_CHECK: Final = (IdentifierCheck("UIC", IdentifierKind.EIK),)
_TR_NS: Final = "TechnoLogica.RegiX.AVTRAdapter.APIService.ITRAPI"

PERSON_DATA_SEARCH: Final = Operation(
    key="TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch",
    request_model=PersonDataRequest,
    response_model=PersonDataResponse,
    title_bg="Справка за физическо лице",
    title_en="Person's data (national population register)",
    request_checks=_EGN_CHECK,
    response_checks=_EGN_CHECK,
)
"""``PersonDataSearch``: a person's data from the national population register, by ЕГН."""

PERMANENT_ADDRESS_SEARCH: Final = Operation(
    key="TechnoLogica.RegiX.GraoPNAAdapter.APIService.IPNAAPI.PermanentAddressSearch",
    request_model=PermanentAddressRequest,
    response_model=PermanentAddressResponse,
    title_bg="Справка за постоянен адрес",
    title_en="Permanent address",
    request_checks=_EGN_CHECK,
)
"""``PermanentAddressSearch``: a person's permanent address at a date."""

TEMPORARY_ADDRESS_SEARCH: Final = Operation(
    key="TechnoLogica.RegiX.GraoPNAAdapter.APIService.IPNAAPI.TemporaryAddressSearch",
    request_model=TemporaryAddressRequest,
    response_model=TemporaryAddressResponse,
    title_bg="Справка за настоящ адрес",
    title_en="Present address",
    request_checks=_EGN_CHECK,
)
"""``TemporaryAddressSearch``: a person's present address at a date."""

GET_ACTUAL_STATE: Final = Operation(
    key=f"{_TR_NS}.GetActualState",
    request_model=ActualStateRequest,
    response_model=ActualStateResponse,
    title_bg="Справка за актуално състояние",
    title_en="Actual state of a trader (commercial register)",
    request_checks=_UIC_CHECK,
    response_checks=(
        *_UIC_CHECK,
        IdentifierCheck("Details/Detail/Subject/Indent", _indent_kind),
    ),
)
"""``GetActualState``: a trader's actual state in the commercial register, by ЕИК."""

GET_VALID_UIC_INFO: Final = Operation(
    key=f"{_TR_NS}.GetValidUICInfo",
    request_model=ValidUICRequest,
    response_model=ValidUICResponse,
    title_bg="Справка за валидност на ЕИК номер",
    title_en="Whether an EIK is registered (commercial register)",
    request_checks=_UIC_CHECK,
    response_checks=_UIC_CHECK,
)
"""``GetValidUICInfo``: whether an ЕИК is registered in the commercial register."""

_REGISTRY_LOCK = threading.Lock()
_REGISTRY: dict[str, Operation] = {
    op.key: op
    for op in (
        PERSON_DATA_SEARCH,
        PERMANENT_ADDRESS_SEARCH,
        TEMPORARY_ADDRESS_SEARCH,
        GET_ACTUAL_STATE,
        GET_VALID_UIC_INFO,
    )
}


def operations() -> tuple[Operation, ...]:
    """Every registered operation, in registration order."""
    with _REGISTRY_LOCK:
        return tuple(_REGISTRY.values())


def _all() -> Iterator[Operation]:
    return iter(operations())


def get_operation(name: str) -> Operation:
    """The operation with the full key ``name``, or the one whose short name it is.

    :raises RegistryError: ``REGIX-UNKNOWN-OPERATION`` when none is registered, or when a
        short name is ambiguous.
    """
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(name)
        if found is not None:
            return found
        matches = [op for op in _REGISTRY.values() if op.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        keys = ", ".join(op.key for op in matches)
        raise RegistryError(
            f"the operation name {name!r} is ambiguous: {keys}; give the full key",
            code="REGIX-UNKNOWN-OPERATION",
            message_bg=f"Името на операция {name!r} е двусмислено: {keys}; посочете пълния ключ",
        )
    known = ", ".join(op.name for op in _all())
    raise RegistryError(
        f"no RegiX operation {name!r} is registered (known: {known})",
        code="REGIX-UNKNOWN-OPERATION",
        message_bg=f"Няма регистрирана операция на RegiX {name!r} (известни: {known})",
    )


def operation_for_response(tag: str) -> Operation | None:
    """The registered operation whose response element is ``tag`` (Clark notation), if one.

    When several operations share a response element, the first registered one is returned.
    """
    return next((op for op in _all() if op.response_root == tag), None)


def register_operation(operation: Operation, *, replace: bool = False) -> Operation:
    """Add ``operation`` to the registry (process-wide) and return it.

    :raises ValueError: an operation with the same key is registered and ``replace`` is false.
    """
    with _REGISTRY_LOCK:
        if operation.key in _REGISTRY and not replace:
            raise ValueError(f"the operation {operation.key} is already registered")
        _REGISTRY[operation.key] = operation
    return operation
