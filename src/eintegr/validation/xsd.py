"""XSD validation with readable, bilingual issues.

libxml2 reports schema violations in English only; the common kinds are rendered in
Bulgarian here, anything else keeps the English detail behind a Bulgarian lead-in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from lxml import etree

from eintegr.validation.report import Issue, Severity
from eintegr.xml import element_path

__all__ = ["xsd_issues"]

# Namespaces shortened in messages: the СЕОС namespace vanishes, XML-DSig gets "ds:".
_SHORT_NAMESPACES = {
    "http://schemas.egov.bg/messaging/v1": "",
    "http://www.w3.org/2000/09/xmldsig#": "ds:",
}
_QNAME = re.compile(r"\{([^}]*)\}")


def _shorten(text: str) -> str:
    return _QNAME.sub(lambda m: _SHORT_NAMESPACES.get(m.group(1), m.group(0)), text)


_Translator = Callable[[re.Match[str]], str]
_TRANSLATIONS: tuple[tuple[re.Pattern[str], _Translator], ...] = (
    (
        re.compile(r"^Element '([^']+)': This element is not expected\. Expected is (.+)\.$"),
        lambda m: f"Елементът „{m[1]}“ не се очаква тук. Очаква се {m[2]}.",
    ),
    (
        re.compile(r"^Element '([^']+)': This element is not expected\.$"),
        lambda m: f"Елементът „{m[1]}“ не се очаква тук.",
    ),
    (
        re.compile(r"^Element '([^']+)': Missing child element\(s\)\. Expected is (.+)\.$"),
        lambda m: f"В елемента „{m[1]}“ липсват задължителни елементи. Очаква се {m[2]}.",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'pattern'\] The value '(.*)' is not accepted "
            r"by the pattern '(.*)'\.$",
            re.S,
        ),
        lambda m: f"Стойността „{m[2]}“ на „{m[1]}“ не отговаря на шаблона „{m[3]}“.",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'enumeration'\] The value '(.*)' is not an element "
            r"of the set \{(.*)\}\.$",
            re.S,
        ),
        lambda m: f"Стойността „{m[2]}“ на „{m[1]}“ не е сред допустимите: {m[3]}.",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet '(min|max)Inclusive'\] The value '(.*)' is "
            r"(?:less|greater) than the (?:minimum|maximum) value allowed \('(.*)'\)\.$",
            re.S,
        ),
        lambda m: (
            f"Стойността „{m[3]}“ на „{m[1]}“ е "
            f"{'под минимално' if m[2] == 'min' else 'над максимално'} допустимата ({m[4]})."
        ),
    ),
    (
        re.compile(
            r"^Element '([^']+)': '(.*)' is not a valid value of the (?:atomic|local atomic|union) "
            r"type '([^']+)'\.$",
            re.S,
        ),
        lambda m: f"Стойността „{m[2]}“ на „{m[1]}“ не е допустима за типа {m[3]}.",
    ),
    (
        re.compile(
            r"^Element '([^']+)': Character content other than whitespace is not allowed "
            r"because the content type is 'element-only'\.$"
        ),
        lambda m: f"Елементът „{m[1]}“ не допуска текст, а само вложени елементи.",
    ),
    (
        re.compile(
            r"^Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed\.$"
        ),
        lambda m: f"Атрибутът „{m[2]}“ не е позволен в елемента „{m[1]}“.",
    ),
    (
        re.compile(
            r"^Element '([^']+)': No matching global declaration available "
            r"for the validation root\.$"
        ),
        lambda m: f"Коренният елемент „{m[1]}“ не е деклариран в схемата.",
    ),
)


def _bulgarian(message: str) -> str:
    for pattern, render in _TRANSLATIONS:
        match = pattern.match(message)
        if match:
            return render(match)
    return f"Несъответствие с XSD схемата: {message}"


# lxml keeps one error log per schema object: validation and reading the log must not
# interleave between threads.
_LOCK = threading.Lock()


def xsd_issues(schema: etree.XMLSchema, tree: etree._ElementTree, *, code: str) -> list[Issue]:
    """Validate ``tree`` against ``schema``; one :class:`Issue` (with ``code``) per violation."""
    with _LOCK:
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)
    # libxml2 names elements in its error paths with the document's own prefixes.
    prefixes: dict[str, str] = {}
    for element in tree.getroot().iter():
        if isinstance(element.tag, str):
            for prefix, namespace in element.nsmap.items():
                if prefix:
                    prefixes.setdefault(prefix, namespace)
    issues: list[Issue] = []
    for entry in entries:
        path: str | None = None
        if entry.path:
            try:
                found = tree.xpath(entry.path, namespaces=prefixes)
            except etree.XPathError:
                found = None
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                path = element_path(found[0])
        message = _shorten(entry.message.strip())
        issues.append(
            Issue(
                code=code,
                severity=Severity.ERROR,
                path=path,
                line=entry.line or None,
                message_en=f"not valid against the XSD schema: {message}",
                message_bg=_bulgarian(message),
            )
        )
    return issues
