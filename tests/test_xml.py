"""The hardened parser: attacks refused, limits enforced, errors typed and bilingual."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree

from eintegr.errors import XmlError, XmlLimitError, XmlSecurityError, XmlSyntaxError
from eintegr.xml import XmlLimits, element_path, parse_xml, to_bytes

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<m>&xxe;</m>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/evil">]>
<m>&xxe;</m>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd"><m/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><m/>"""

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>"
)

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><k>'
    + b"&a;" * 50_000
    + b"</k>"
)


@pytest.mark.parametrize(
    "data",
    [XXE_FILE, XXE_NETWORK, EXTERNAL_DTD, PARAMETER_ENTITY, BILLION_LAUGHS, QUADRATIC_BLOWUP],
    ids=[
        "xxe-file",
        "xxe-network",
        "external-dtd",
        "parameter-entity",
        "billion-laughs",
        "quadratic",
    ],
)
def test_doctype_attacks_are_refused_before_parsing(data: bytes) -> None:
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(data)
    assert info.value.code == "XML-DTD-FORBIDDEN"
    assert "DOCTYPE" in str(info.value)
    assert "DOCTYPE" in info.value.message_bg
    assert isinstance(info.value, ValueError)


def test_doctype_hidden_after_comments_and_processing_instructions() -> None:
    data = b'<?xml version="1.0"?><!-- a comment --><?pi x?>\n<!DOCTYPE m><m/>'
    with pytest.raises(XmlSecurityError):
        parse_xml(data)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_doctype_in_other_encodings_is_refused(encoding: str) -> None:
    declared = "utf-16" if encoding.startswith("utf-16") else "utf-8"
    text = f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE m [<!ENTITY e "x">]><m>&e;</m>'
    data = text.encode(encoding)
    if encoding in {"utf-16-le", "utf-16-be"}:
        data = ("\ufeff" + text).encode(encoding)
    with pytest.raises(XmlSecurityError):
        parse_xml(data)


def test_utf16_document_without_doctype_parses() -> None:
    data = '<?xml version="1.0" encoding="utf-16"?><m>здравей</m>'.encode("utf-16")
    assert parse_xml(data).getroot().text == "здравей"


def test_no_entity_is_ever_resolved_even_past_the_prolog_scan() -> None:
    # A DOCTYPE after a prolog longer than the scan window is still refused after parsing.
    data = b"<!--" + b"x" * 300_000 + b'-->\n<!DOCTYPE m [<!ENTITY e "boom">]><m>&e;</m>'
    with pytest.raises(XmlSecurityError):
        parse_xml(data)


def test_size_limit() -> None:
    limits = XmlLimits(max_bytes=100)
    parse_xml(b"<m>" + b"x" * 50 + b"</m>", limits=limits)
    with pytest.raises(XmlLimitError) as info:
        parse_xml(b"<m>" + b"x" * 100 + b"</m>", limits=limits)
    assert info.value.code == "XML-TOO-LARGE"
    assert "байта" in info.value.message_bg


def test_depth_limit() -> None:
    limits = XmlLimits(max_depth=5)
    parse_xml(b"<a><b><c><d><e/></d></c></b></a>", limits=limits)
    with pytest.raises(XmlLimitError) as info:
        parse_xml(b"<a><b><c><d><e><f/></e></d></c></b></a>", limits=limits)
    assert info.value.code == "XML-TOO-DEEP"


def test_default_depth_limit_stops_deep_nesting() -> None:
    parse_xml(b"<a>" * 256 + b"</a>" * 256)
    with pytest.raises(XmlLimitError) as info:
        parse_xml(b"<a>" * 257 + b"</a>" * 257)
    assert info.value.code == "XML-TOO-DEEP"


def test_depth_limit_holds_for_huge_documents_too() -> None:
    # Over 9 MiB libxml2 runs in huge-tree mode (its own depth limit is 2048): we still stop at 256.
    deep = b"<a>" * 300 + b"x" * (10 * 1024 * 1024) + b"</a>" * 300
    with pytest.raises(XmlLimitError) as info:
        parse_xml(deep)
    assert info.value.code == "XML-TOO-DEEP"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        XmlLimits(max_bytes=0)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "XML-EMPTY"),
        (b"  \n\t ", "XML-EMPTY"),
        (b"<m>", "XML-MALFORMED"),
        (b"not xml at all", "XML-MALFORMED"),
        (bytes(range(256)) * 4, "XML-MALFORMED"),
        (b"<m></n>", "XML-MALFORMED"),
        (b'<?xml version="1.0" encoding="utf-8"?><m>\xff\xfe</m>', "XML-MALFORMED"),
    ],
    ids=["empty", "blank", "unclosed", "text", "binary", "mismatched", "bad-utf8"],
)
def test_bad_input_is_a_typed_error(data: bytes, code: str) -> None:
    with pytest.raises(XmlSyntaxError) as info:
        parse_xml(data)
    assert info.value.code == code
    assert isinstance(info.value, XmlError)
    assert info.value.message_bg


def test_malformed_error_carries_the_line() -> None:
    with pytest.raises(XmlSyntaxError) as info:
        parse_xml(b"<m>\n<a>\n</b></m>")
    assert info.value.line == 3


def test_text_is_refused() -> None:
    with pytest.raises(TypeError):
        parse_xml("<m/>")  # type: ignore[arg-type]


def test_huge_text_node_is_accepted_within_the_size_limit() -> None:
    # libxml2 refuses text nodes over 10 MB unless its huge-tree mode is on.
    body = b"A" * (11 * 1024 * 1024)
    tree = parse_xml(b"<m>" + body + b"</m>")
    assert len(tree.getroot().text or "") == len(body)


def test_xinclude_is_never_processed(tmp_path: Path) -> None:
    secret = tmp_path / "included.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = (
        b'<m xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="'
        + secret.as_uri().encode()
        + b'" parse="text"/></m>'
    )
    tree = parse_xml(data)
    assert b"TOP-SECRET-CONTENT" not in to_bytes(tree)


def test_parser_is_safe_across_threads() -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                root = parse_xml(f"<m><n>{n}-{i}</n></m>".encode()).getroot()
                assert root[0].text == f"{n}-{i}"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_element_path_names_positions_only_where_needed() -> None:
    root = parse_xml(b'<m xmlns="urn:x"><a/><b><c/><c><d/></c></b></m>').getroot()
    d = root.find("{urn:x}b/{urn:x}c/{urn:x}d")
    assert d is not None
    assert element_path(d) == "/m/b/c[2]/d"
    assert element_path(root) == "/m"


def test_to_bytes_round_trips() -> None:
    tree = parse_xml("<m a='1'>текст</m>".encode())
    data = to_bytes(tree)
    assert data.startswith(b"<?xml")
    assert etree.fromstring(data).text == "текст"
