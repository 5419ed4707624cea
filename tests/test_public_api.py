"""The public API is small, explicit and documented; a change to it must change this test."""

from __future__ import annotations

import importlib
import inspect

import pytest

import eintegr

PUBLIC = {
    "__version__",
    # errors, XML, identifiers
    "EintegrError", "XmlLimits", "parse_xml", "Egn", "Eik", "Guid", "Lnch",
    # СЕОС messages
    "Attachment", "Correspondent", "Document", "DocumentStatus", "EntityNode", "ErrorKind",
    "Message", "MessageType", "error_message", "new_document", "registration_request",
    "reply_to", "status_request", "status_response",
    # validation
    "Issue", "Severity", "ValidationReport", "validate",
    # signing
    "CertificateAuthorities", "PinnedCertificates", "SignatureAlgorithm", "Signer",
    "VerificationPolicy", "VerifiedMessage", "load_pem_signer", "load_pkcs12_signer",
    "sign_document", "sign_message", "verify_document", "verify_message",
}  # fmt: skip

MODULES = [
    "eintegr.errors",
    "eintegr.xml",
    "eintegr.identifiers",
    "eintegr.schemas",
    "eintegr.messages",
    "eintegr.messages.seos",
    "eintegr.validation",
    "eintegr.signing",
    "eintegr.signing.pki",
    "eintegr.signing.xades",
    "eintegr.signing.timestamp",
    "eintegr.registry",
    "eintegr.registry.soap",
    "eintegr.registry.files",
    "eintegr.registry.client",
    "eintegr.registry.cache",
    "eintegr.registry.server",
    "eintegr.transport",
    "eintegr.transport.base",
    "eintegr.transport.checks",
    "eintegr.transport.memory",
    "eintegr.transport.filesystem",
    "eintegr.transport.submit_client",
    "eintegr.transport.receiving",
    "eintegr.transport.server",
    "eintegr.exchange",
    "eintegr.exchange.node",
    "eintegr.exchange.journal",
    "eintegr.exchange.lifecycle",
    "eintegr.exchange.retry",
    "eintegr.exchange.worker",
    "eintegr.exchange.local",
    "eintegr.testing.conformance",
    "eintegr.transport.soap",
    "eintegr.testing",
    "eintegr.testing.transport_contract",
    "eintegr.transport.asgi_server",
    "eintegr.messages.edelivery",
    "eintegr.transport.edelivery",
    "eintegr.transport.wssecurity",
    "eintegr.transport.mtom",
    "eintegr.testing.edelivery_server",
    "eintegr.schemas.rio",
    "eintegr.messages.rio",
    "eintegr.messages.rio_bridge",
    "eintegr.signing.rio",
    "eintegr.validation.rio",
    "eintegr.messages.regix",
    "eintegr.messages.regix_operations",
    "eintegr.transport.regix",
    "eintegr.testing.regix_server",
    "eintegr.cli",
    "eintegr.cli.registry",
    "eintegr.cli.edelivery",
    "eintegr.cli.regix",
    "eintegr.cli.serve",
    "eintegr.cli.demo",
    "eintegr.cli.inspect",
    "eintegr.cli.conformance",
]


def test_top_level_api_is_exactly_the_curated_set() -> None:
    assert set(eintegr.__all__) == PUBLIC
    assert set(eintegr.__all__) - {"__version__"} == set(eintegr._EXPORTS)


@pytest.mark.parametrize("name", sorted(PUBLIC - {"__version__"}))
def test_every_top_level_name_resolves_to_its_module_object(name: str) -> None:
    value = getattr(eintegr, name)
    module = importlib.import_module(eintegr._EXPORTS[name])
    assert value is getattr(module, name)
    assert name in module.__all__


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = eintegr.not_a_name


@pytest.mark.parametrize("module_name", MODULES)
def test_module_all_is_accurate_and_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__, f"{module_name} has no docstring"
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for name in exported:
        value = getattr(module, name)  # every listed name exists
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{module_name}.{name} has no docstring"


def test_every_exception_derives_from_the_root_and_a_builtin() -> None:
    from eintegr import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.EintegrError)
        if cls is not errors.EintegrError:
            assert issubclass(cls, ValueError | LookupError | ConnectionError), name
