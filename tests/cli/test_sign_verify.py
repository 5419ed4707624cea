"""``eintegr sign / verify / keys``: real keys and signatures, stable exit codes, no tracebacks."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from eintegr.cli import signing as cli_signing
from eintegr.cli.signing import register
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from tests.validation import messages as msg

EIK = "000695089"
HOST = "seos.example.bg"
DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def app() -> click.Group:
    group = click.Group("eintegr")
    register(group)
    return group


def invoke(app: click.Group, *args: object, stdin: bytes | None = None, **env: str) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin, env=env or None)


@pytest.fixture(scope="module")
def pki(app: click.Group, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and the sender's transport certificate, made through ``eintegr keys``."""
    folder = tmp_path_factory.mktemp("pki")
    result = invoke(app, "keys", "ca", "-o", folder)
    assert result.exit_code == 0, result.output
    result = invoke(
        app, "keys", "transport", "--ca-dir", folder, "--eik", EIK, "--host", HOST, "-o", folder
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def message(tmp_path: Path) -> Path:
    path = tmp_path / "message.xml"
    path.write_bytes(msg.registration())
    return path


@pytest.fixture
def signed(app: click.Group, pki: Path, message: Path, tmp_path: Path) -> Path:
    out = tmp_path / "signed.xml"
    result = invoke(
        app,
        "sign",
        "--key",
        pki / "transport.key.pem",
        "--cert",
        pki / "transport.crt.pem",
        message,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    return out


def verify_json(app: click.Group, *args: object) -> tuple[int, list[dict[str, object]]]:
    result = invoke(app, "verify", "--format", "json", *args)
    payload = json.loads(result.stdout)
    files = payload["files"]
    assert isinstance(files, list)
    return result.exit_code, files


# --- keys ----------------------------------------------------------------------------------


def test_keys_write_a_usable_pki(pki: Path) -> None:
    ca = Issued.read(pki, "ca")
    transport = Issued.read(pki, "transport")
    transport.certificate.verify_directly_issued_by(ca.certificate)
    subject = transport.certificate.subject
    assert subject.get_attributes_for_oid(x509.NameOID.STATE_OR_PROVINCE_NAME)[0].value == (
        f"B:{EIK}"
    )
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == HOST
    for name in ("ca.key.pem", "transport.key.pem"):
        assert stat.S_IMODE((pki / name).stat().st_mode) == 0o600


def test_keys_report_the_serial(app: click.Group, tmp_path: Path) -> None:
    result = invoke(app, "keys", "ca", "-o", tmp_path, "--cn", "Моят CA")
    assert result.exit_code == 0
    serial = f"{Issued.read(tmp_path, 'ca').certificate.serial_number:X}"
    assert f"serial (hex): {serial}" in result.output


def test_keys_refuse_to_overwrite(app: click.Group, tmp_path: Path) -> None:
    assert invoke(app, "keys", "ca", "-o", tmp_path).exit_code == 0
    first = (tmp_path / "ca.crt.pem").read_bytes()
    result = invoke(app, "keys", "ca", "-o", tmp_path)
    assert result.exit_code == 2
    assert "--force" in result.output
    assert (tmp_path / "ca.crt.pem").read_bytes() == first
    assert invoke(app, "keys", "ca", "-o", tmp_path, "--force").exit_code == 0
    assert (tmp_path / "ca.crt.pem").read_bytes() != first


def test_keys_transport_with_pkcs12_and_password(
    app: click.Group, pki: Path, tmp_path: Path
) -> None:
    result = invoke(
        app,
        *("keys", "transport", "--ca-dir", pki, "--eik", EIK, "--host", "localhost"),
        *("--key-type", "ec", "--pkcs12", "--password-env", "P12_PASS", "-o", tmp_path),
        P12_PASS="секрет",
    )
    assert result.exit_code == 0, result.output
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "transport.p12").read_bytes(), "секрет".encode()
    )
    assert key is not None
    assert cert == Issued.read(tmp_path, "transport", password="секрет".encode()).certificate
    assert b"ENCRYPTED" in (tmp_path / "transport.key.pem").read_bytes()


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("--eik", "000695088", "--host", HOST), 2, "EIK"),
        (("--eik", EIK, "--host", " "), 2, "host"),
        (("--eik", EIK, "--host", HOST, "--password-env", "NOT_SET_ANYWHERE"), 2, "NOT_SET"),
    ],
)
def test_keys_transport_usage_errors(
    app: click.Group, pki: Path, tmp_path: Path, args: tuple[str, ...], code: int, text: str
) -> None:
    result = invoke(app, "keys", "transport", "--ca-dir", pki, "-o", tmp_path, *args)
    assert result.exit_code == code
    assert text in result.output
    assert "Traceback" not in result.output


def test_keys_transport_without_a_ca(app: click.Group, tmp_path: Path) -> None:
    result = invoke(
        app,
        "keys",
        "transport",
        "--ca-dir",
        tmp_path / "none",
        "--eik",
        EIK,
        "--host",
        HOST,
        "-o",
        tmp_path,
    )
    assert result.exit_code == 3
    assert "KEY-LOAD" in result.output


# --- sign and verify -----------------------------------------------------------------------


def test_sign_then_verify_pinned(app: click.Group, pki: Path, signed: Path) -> None:
    root = etree.fromstring(signed.read_bytes())
    assert root[-1].tag == f"{{{DS}}}Signature"
    result = invoke(app, "verify", "--trust", pki / "transport.crt.pem", signed)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK   {signed}")
    assert "1 files: 1 valid, 0 not valid" in result.output


def test_verify_json_shape(app: click.Group, pki: Path, signed: Path) -> None:
    code, files = verify_json(app, "--ca", pki / "ca.crt.pem", signed)
    assert code == 0
    transport = Issued.read(pki, "transport").certificate
    assert files == [
        {
            "path": str(signed),
            "valid": True,
            "code": None,
            "message": "the signature is valid",
            "signer": {
                "subject": transport.subject.rfc4514_string(),
                "issuer": transport.issuer.rfc4514_string(),
                "serial_hex": f"{transport.serial_number:X}",
                "not_before": transport.not_valid_before_utc.isoformat(),
                "not_after": transport.not_valid_after_utc.isoformat(),
            },
            "algorithm": "rsa-sha256",
        }
    ]


def test_pinned_and_ca_together(app: click.Group, pki: Path, signed: Path) -> None:
    both = ("--trust", pki / "transport.crt.pem", "--ca", pki / "ca.crt.pem")
    assert invoke(app, "verify", *both, signed).exit_code == 0
    foreign = make_ca("foreign CA")
    (pki.parent / "foreign.pem").write_bytes(foreign.certificate_pem())
    code, files = verify_json(
        app, "--trust", pki / "transport.crt.pem", "--ca", pki.parent / "foreign.pem", signed
    )
    assert code == 1
    assert files[0]["code"] == "П.8"


def test_other_sender_is_not_trusted(app: click.Group, pki: Path, signed: Path) -> None:
    other = make_transport_certificate(Issued.read(pki, "ca"), eik=EIK, host="other.example.bg")
    pin = pki.parent / "other.pem"
    pin.write_bytes(other.certificate_pem())
    code, files = verify_json(app, "--trust", pin, signed)
    assert code == 1
    entry = files[0]
    assert entry["valid"] is False
    assert entry["code"] == "П.8"
    signer = entry["signer"]
    assert isinstance(signer, dict)
    assert signer["serial_hex"] == f"{Issued.read(pki, 'transport').certificate.serial_number:X}"


def test_tampered_and_unsigned(app: click.Group, pki: Path, signed: Path, message: Path) -> None:
    tampered = signed.parent / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace("РД-01-15".encode(), "РД-01-16".encode()))
    code, files = verify_json(app, "--trust", pki / "transport.crt.pem", signed, tampered, message)
    assert code == 1
    assert [f["valid"] for f in files] == [True, False, False]
    assert [f["code"] for f in files] == [None, "SIG-DIGEST", "П.7"]


def test_unreadable_file_exits_3(app: click.Group, pki: Path, signed: Path) -> None:
    missing = signed.parent / "missing.xml"
    code, files = verify_json(app, "--trust", pki / "transport.crt.pem", signed, missing)
    assert code == 3
    assert files[1]["code"] == "IO-UNREADABLE"


def test_hostile_xml_is_a_failure_not_a_crash(app: click.Group, pki: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><m>&a;</m>')
    code, files = verify_json(app, "--trust", pki / "transport.crt.pem", bomb)
    assert code == 1
    assert files[0]["code"] == "SIG-XML"


def test_bulgarian_messages(app: click.Group, pki: Path, message: Path) -> None:
    result = invoke(app, "verify", "--lang", "bg", "--trust", pki / "transport.crt.pem", message)
    assert result.exit_code == 1
    assert "1 файла: 0 валидни, 1 невалидни" in result.output
    assert "П.7" in result.output
    assert "подписан" in result.output


def test_verification_time(app: click.Group, pki: Path, signed: Path) -> None:
    trust = ("--trust", pki / "transport.crt.pem")
    code, files = verify_json(app, *trust, "--at", "2100-01-01T00:00:00Z", signed)
    assert code == 1
    assert files[0]["code"] == "SIG-CERT-EXPIRED"
    code, _ = verify_json(app, *trust, "--at", "2100-01-01", signed)
    assert code == 1
    result = invoke(app, "verify", *trust, "--at", "next tuesday", signed)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        (),  # neither --trust nor --ca
        ("--place", "/*"),  # --place without --xades
        ("--xades", "--place", "//["),
        ("--xades", "--ns", "nonsense"),
    ],
)
def test_verify_usage_errors(
    app: click.Group, pki: Path, signed: Path, args: tuple[str, ...]
) -> None:
    trust = ("--trust", pki / "transport.crt.pem") if args else ()
    result = invoke(app, "verify", *trust, *args, signed)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_unreadable_trust_file_exits_3(app: click.Group, tmp_path: Path, signed: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    result = invoke(app, "verify", "--trust", junk, signed)
    assert result.exit_code == 3
    assert "KEY-LOAD" in result.output


def test_sign_stdin_to_stdout(app: click.Group, pki: Path) -> None:
    result = invoke(
        app,
        *("sign", "--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem", "-"),
        stdin=msg.status_request(),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"<?xml")
    check = invoke(
        app, "verify", "--trust", pki / "transport.crt.pem", "-", stdin=result.stdout_bytes
    )
    assert check.exit_code == 0, check.output


def test_sign_with_pkcs12(app: click.Group, pki: Path, message: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "sender.p12"
    bundle.write_bytes(Issued.read(pki, "transport").pkcs12(b"p12-secret"))
    out = tmp_path / "out.xml"
    args = ("sign", "--pkcs12", bundle, "--password-env", "SENDER_PASS", message, "-o", out)
    assert invoke(app, *args, SENDER_PASS="p12-secret").exit_code == 0
    assert invoke(app, "verify", "--trust", pki / "transport.crt.pem", out).exit_code == 0
    wrong = invoke(app, *args, SENDER_PASS="wrong")
    assert wrong.exit_code == 3
    assert "KEY-PASSWORD" in wrong.output
    assert invoke(app, *args).exit_code == 2  # the variable is not set


def test_sign_algorithm_choice(app: click.Group, pki: Path, message: Path, tmp_path: Path) -> None:
    out = tmp_path / "pss.xml"
    result = invoke(
        app,
        *("sign", "--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem"),
        *("--algorithm", "rsa-pss-sha256", message, "-o", out),
    )
    assert result.exit_code == 0, result.output
    code, files = verify_json(app, "--trust", pki / "transport.crt.pem", out)
    assert code == 0
    assert files[0]["algorithm"] == "rsa-pss-sha256"
    refused = invoke(
        app,
        *("sign", "--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem"),
        *("--algorithm", "rsa-sha1", message),
    )
    assert refused.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        (),  # no key at all
        ("--key", "k.pem"),  # no certificate
        ("--key", "k.pem", "--cert", "c.pem", "--pkcs12", "b.p12"),
        ("--pkcs12", "b.p12", "--place", "/*"),
    ],
)
def test_sign_usage_errors(app: click.Group, message: Path, args: tuple[str, ...]) -> None:
    result = invoke(app, "sign", *args, message)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_sign_errors(app: click.Group, pki: Path, signed: Path, tmp_path: Path) -> None:
    key_cert = ("--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem")
    again = invoke(app, "sign", *key_cert, signed)
    assert again.exit_code == 1
    assert "SIG-ALREADY-SIGNED" in again.output
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<Message><Header>")
    assert invoke(app, "sign", *key_cert, broken).exit_code == 1
    assert invoke(app, "sign", *key_cert, tmp_path / "missing.xml").exit_code == 3
    mismatched = ("--key", pki / "ca.key.pem", "--cert", pki / "transport.crt.pem")
    result = invoke(app, "sign", *mismatched, signed)
    assert result.exit_code == 3
    assert "KEY-MISMATCH" in result.output


def test_document_then_message(app: click.Group, pki: Path, message: Path, tmp_path: Path) -> None:
    key_cert = ("--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem")
    doc_signed = tmp_path / "doc.xml"
    both_signed = tmp_path / "both.xml"
    assert invoke(app, "sign", *key_cert, "--document", message, "-o", doc_signed).exit_code == 0
    assert invoke(app, "sign", *key_cert, doc_signed, "-o", both_signed).exit_code == 0
    trust = ("--trust", pki / "transport.crt.pem")
    assert invoke(app, "verify", *trust, "--document", both_signed).exit_code == 0
    assert invoke(app, "verify", *trust, both_signed).exit_code == 0
    code, files = verify_json(app, *trust, "--document", message)
    assert code == 1
    assert files[0]["code"] == "П.7"


def test_xades_at_a_place(app: click.Group, pki: Path, tmp_path: Path) -> None:
    document = tmp_path / "application.xml"
    document.write_text(
        '<Application xmlns="urn:example"><Data>Заявление</Data>'
        "<Footer><XMLDigitalSignature/></Footer></Application>",
        encoding="utf-8",
    )
    place = ("--place", "//e:XMLDigitalSignature", "--ns", "e=urn:example")
    out = tmp_path / "signed-application.xml"
    key_cert = ("--key", pki / "transport.key.pem", "--cert", pki / "transport.crt.pem")
    result = invoke(app, "sign", *key_cert, "--xades", *place, document, "-o", out)
    assert result.exit_code == 0, result.output
    ca = ("--ca", pki / "ca.crt.pem")
    code, files = verify_json(app, *ca, "--xades", *place, out)
    assert code == 0, files
    assert files[0]["algorithm"] == "rsa-sha256"
    code, files = verify_json(app, *ca, "--xades", out)  # not where the signature is
    assert code == 1
    assert files[0]["code"] == "SIG-STRUCTURE"


def test_sign_with_chain(app: click.Group, message: Path, tmp_path: Path) -> None:
    root = make_ca("root")
    issuing = make_ca("issuing", issuer=root)
    leaf = make_transport_certificate(issuing, eik=EIK, host=HOST)
    paths = leaf.write(tmp_path, "leaf")
    (tmp_path / "root.pem").write_bytes(root.certificate_pem())
    key_cert = ("--key", paths["key"], "--cert", paths["certificate"], "--chain", paths["chain"])
    with_chain, without = tmp_path / "with.xml", tmp_path / "without.xml"
    assert (
        invoke(app, "sign", *key_cert, "--include-chain", message, "-o", with_chain).exit_code == 0
    )
    assert invoke(app, "sign", *key_cert, message, "-o", without).exit_code == 0
    code, _ = verify_json(app, "--ca", tmp_path / "root.pem", with_chain)
    assert code == 0
    code, files = verify_json(app, "--ca", tmp_path / "root.pem", without)
    assert code == 1
    assert files[0]["code"] == "П.8"
    # the intermediate in the --ca bundle completes the chain
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(root.certificate_pem() + issuing.certificate_pem())
    assert verify_json(app, "--ca", bundle, without)[0] == 0


@pytest.mark.reference
def test_real_signed_sample(app: click.Group, seos_signed_sample: bytes, tmp_path: Path) -> None:
    root = etree.fromstring(seos_signed_sample)
    node = root.find(f".//{{{DS}}}X509Certificate")
    assert node is not None
    certificate = x509.load_der_x509_certificate(base64.b64decode(node.text or ""))
    pin = tmp_path / "edelivery.pem"
    pin.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    sample = tmp_path / "sample.xml"
    sample.write_bytes(seos_signed_sample)
    at = ("--at", "2021-08-25T00:00:00+03:00")
    code, files = verify_json(app, "--trust", pin, "--allow-sha1", *at, sample)
    assert code == 0, files
    assert files[0]["algorithm"] == "rsa-sha1"
    code, files = verify_json(app, "--trust", pin, *at, sample)
    assert code == 1
    assert files[0]["code"] == "SIG-ALGORITHM"


def test_internal_error_is_one_line_and_exit_3(
    app: click.Group, pki: Path, signed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli_signing, "check_message_signature", broken)
    result = invoke(app, "verify", "--trust", pki / "transport.crt.pem", signed)
    assert result.exit_code == 3
    assert "internal error" in result.output
    assert "disk on fire" in result.output
    assert "Traceback" not in result.output


# --- real processes ------------------------------------------------------------------------

_RUN_REGISTERED = (
    "import sys\n"
    "from eintegr.cli import cli, main\n"
    "from eintegr.cli.signing import register\n"
    "if 'sign' not in cli.commands:\n"
    "    register(cli)\n"
    "main(sys.argv[1:])\n"
)


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, timeout=120, check=False, env={**os.environ, **env}
    )


def test_real_process_round_trip(tmp_path: Path) -> None:
    """The real ``main()`` (exit-code mapping included) in a separate interpreter."""
    python = [sys.executable, "-c", _RUN_REGISTERED]
    assert _run([*python, "keys", "ca", "-o", "pki"], tmp_path).returncode == 0
    transport = ["keys", "transport", "--ca-dir", "pki", "--eik", EIK, "--host", HOST, "-o", "pki"]
    assert _run([*python, *transport], tmp_path).returncode == 0
    (tmp_path / "m.xml").write_bytes(msg.registration())
    key_cert = ["--key", "pki/transport.key.pem", "--cert", "pki/transport.crt.pem"]
    assert _run([*python, "sign", *key_cert, "m.xml", "-o", "s.xml"], tmp_path).returncode == 0
    ok = _run([*python, "verify", "--trust", "pki/transport.crt.pem", "s.xml"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    bad = _run([*python, "verify", "--trust", "pki/transport.crt.pem", "m.xml"], tmp_path)
    assert bad.returncode == 1
    usage = _run([*python, "verify", "s.xml"], tmp_path)
    assert usage.returncode == 2
    missing = _run([*python, "verify", "--trust", "pki/transport.crt.pem", "no.xml"], tmp_path)
    assert missing.returncode == 3
    for done in (ok, bad, usage, missing):
        assert b"Traceback" not in done.stderr


def test_installed_script(tmp_path: Path) -> None:
    """The ``eintegr`` console script of this environment."""
    script = shutil.which("eintegr", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the eintegr console script is not installed in this environment")
    probe = _run([script, "keys", "--help"], tmp_path)
    if probe.returncode != 0:
        pytest.skip("sign/verify/keys are not registered in eintegr.cli yet")
    assert _run([script, "keys", "ca", "-o", "pki"], tmp_path).returncode == 0
    transport = ["keys", "transport", "--ca-dir", "pki", "--eik", EIK, "--host", HOST, "-o", "pki"]
    assert _run([script, *transport], tmp_path).returncode == 0
    (tmp_path / "m.xml").write_bytes(msg.registration())
    signed = _run(
        [
            script,
            "sign",
            "--key",
            "pki/transport.key.pem",
            "--cert",
            "pki/transport.crt.pem",
            "m.xml",
        ],
        tmp_path,
    )
    assert signed.returncode == 0, signed.stderr
    (tmp_path / "s.xml").write_bytes(signed.stdout)
    verified = _run(
        [script, "verify", "--ca", "pki/ca.crt.pem", "--format", "json", "s.xml"], tmp_path
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["files"][0]["valid"] is True
    assert _run([script, "verify", "s.xml"], tmp_path).returncode == 2
