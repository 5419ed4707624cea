"""``eintegr sign``, ``eintegr verify`` and ``eintegr keys``: signatures from the command line.

* ``sign`` — sign a СЕОС message (``ds:Signature`` as the last child of ``Message``), its
  ``Document`` (``--document``) or any XML document with XAdES-B-B (``--xades``), with a PEM
  key and certificate or a PKCS#12 bundle. Passwords come from environment variables only,
  never from the command line (it ends up in shell history and process lists).
* ``verify`` — verify signatures against the sender's pinned certificate(s) (``--trust``)
  and/or a CA bundle (``--ca``); report as text or JSON, in English or Bulgarian.
* ``keys`` — make a local test CA and transport certificates for trials.

Exit status: 0 success (all valid), 1 something is not valid, 2 usage error, 3 unreadable
input or internal error. Register the commands with :func:`register`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from cryptography import x509
from lxml import etree

from eintegr.cli.validate import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE
from eintegr.errors import EintegrError, IdentifierError, KeyLoadError
from eintegr.signing import (
    CertificateAuthorities,
    KeySigner,
    PinnedCertificates,
    SignatureAlgorithm,
    Trust,
    VerificationPolicy,
    check_document_signature,
    check_message_signature,
    load_certificates,
    load_pem_signer,
    load_pkcs12_signer,
    sign_document,
    sign_message,
)
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.signing.xades import sign_xades, verify_xades

__all__ = ["keys_group", "register", "sign_command", "verify_command"]

_F = TypeVar("_F", bound=Callable[..., Any])
_STDIO = "-"
_LANG = click.option(
    "--lang",
    type=click.Choice(["en", "bg"]),
    default="en",
    show_default=True,
    help="Language of the messages.",
)


def register(group: click.Group) -> None:
    """Add ``sign``, ``verify`` and ``keys`` to the ``eintegr`` command group."""
    group.add_command(sign_command)
    group.add_command(verify_command)
    group.add_command(keys_group)


# --- shared helpers -------------------------------------------------------------------------


def _text(lang: str, en: str, bg: str) -> str:
    return bg if lang == "bg" else en


def _fail(code: int, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _guarded(command: str) -> Callable[[_F], _F]:
    """Turn any unexpected exception into one line on stderr and exit status 3."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
                raise
            except Exception as exc:  # never a bare traceback
                _fail(EXIT_UNREADABLE, f"eintegr {command}: internal error: {exc!r}")

        return wrapper  # type: ignore[return-value]

    return decorate


def _password(variable: str | None, lang: str) -> bytes | None:
    """The password held by the environment variable ``variable`` (UTF-8)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise click.UsageError(
            _text(
                lang,
                f"the environment variable {variable} is not set",
                f"променливата на средата {variable} не е зададена",
            )
        )
    return value.encode("utf-8")


def _read_input(source: str, lang: str) -> bytes:
    try:
        if source == _STDIO:
            return sys.stdin.buffer.read()
        return Path(source).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        en = f"cannot read {source}: {reason}"
        _fail(EXIT_UNREADABLE, _text(lang, en, f"{source} не може да бъде прочетен: {reason}"))


def _namespaces(values: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        prefix, sep, uri = value.partition("=")
        if not sep or not prefix or not uri:
            raise click.BadParameter(f"{value!r} is not PREFIX=URI", param_hint="--ns")
        mapping[prefix] = uri
    return mapping


def _check_place(place: str | None, namespaces: dict[str, str]) -> None:
    if place is None:
        return
    try:
        etree.XPath(place, namespaces=namespaces)
    except etree.XPathError as exc:
        raise click.BadParameter(f"not a valid XPath: {exc}", param_hint="--place") from None


_PLACE = click.option(
    "--place",
    metavar="XPATH",
    help="With --xades: the one element the signature goes into (default: the root).",
)
_NS = click.option(
    "--ns",
    "ns",
    multiple=True,
    metavar="PREFIX=URI",
    help="With --xades: a namespace prefix used in --place (repeatable).",
)


# --- sign -----------------------------------------------------------------------------------


@click.command("sign")
@click.argument("source", metavar="IN", default=_STDIO)
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="PEM private key.")
@click.option(
    "--cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM certificate of the key (may hold the chain after it).",
)
@click.option(
    "--pkcs12",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PKCS#12 bundle (.p12/.pfx) instead of --key/--cert.",
)
@click.option(
    "--password-env",
    metavar="VAR",
    help="Environment variable holding the key's or bundle's password.",
)
@click.option(
    "--chain",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="PEM file with intermediate CA certificates (repeatable; KeyInfo gets them with"
    " --include-chain, and always with --xades).",
)
@click.option("--include-chain", is_flag=True, help="Put the intermediates in KeyInfo too.")
@click.option(
    "--algorithm",
    type=click.Choice(
        [a.value for a in SignatureAlgorithm if a is not SignatureAlgorithm.RSA_SHA1]
    ),
    help="Signature algorithm (default: rsa-sha256 for RSA keys, ecdsa-sha256/384 for EC).",
)
@click.option(
    "--document",
    "mode",
    flag_value="document",
    help="Sign the message's Document (do this before signing the message).",
)
@click.option(
    "--xades",
    "mode",
    flag_value="xades",
    help="Sign any XML document with a XAdES-B-B enveloped signature.",
)
@_PLACE
@_NS
@click.option(
    "-o",
    "--output",
    default=_STDIO,
    show_default=True,
    metavar="OUT",
    help="Where to write the signed XML ('-' for standard output).",
)
@_LANG
@_guarded("sign")
def sign_command(
    source: str,
    key: Path | None,
    cert: Path | None,
    pkcs12: Path | None,
    password_env: str | None,
    chain: tuple[Path, ...],
    include_chain: bool,
    algorithm: str | None,
    mode: str | None,
    place: str | None,
    ns: tuple[str, ...],
    output: str,
    lang: str,
) -> None:
    """Sign IN (a file, or '-' for standard input): a СЕОС message by default.

    Give the key as --key and --cert (PEM), or as --pkcs12. Exit status: 0 signed,
    1 the input cannot be signed, 2 usage error, 3 unreadable input or key, internal error.
    """
    if pkcs12 is not None and (key is not None or cert is not None):
        raise click.UsageError("give either --key/--cert or --pkcs12, not both")
    pem = (key, cert) if key is not None and cert is not None else None
    if pkcs12 is None and pem is None:
        raise click.UsageError("give --key and --cert, or --pkcs12")
    if mode != "xades" and (place is not None or ns):
        raise click.UsageError("--place and --ns go with --xades")
    namespaces = _namespaces(ns)
    _check_place(place, namespaces)
    password = _password(password_env, lang)
    chosen = SignatureAlgorithm(algorithm) if algorithm else None
    data = _read_input(source, lang)
    try:
        signer: KeySigner
        if pem is not None:
            signer = load_pem_signer(*pem, password=password, chain=list(chain), algorithm=chosen)
        elif pkcs12 is not None:
            signer = load_pkcs12_signer(pkcs12, password, algorithm=chosen)
    except KeyLoadError as exc:
        _fail(EXIT_UNREADABLE, f"eintegr sign: {exc.code}: {exc.localized(lang)}")
    try:
        if mode == "xades":
            signed = sign_xades(data, signer, place=place, namespaces=namespaces)
        elif mode == "document":
            signed = sign_document(data, signer, include_chain=include_chain)
        else:
            signed = sign_message(data, signer, include_chain=include_chain)
    except EintegrError as exc:  # the input cannot be signed as asked
        _fail(EXIT_INVALID, f"eintegr sign: {exc.code}: {exc.localized(lang)}")
    try:
        if output == _STDIO:
            sys.stdout.flush()
            sys.stdout.buffer.write(signed)
            sys.stdout.buffer.flush()
        else:
            Path(output).write_bytes(signed)
    except OSError as exc:
        _fail(EXIT_UNREADABLE, f"eintegr sign: cannot write {output}: {exc.strerror or exc}")
    sys.exit(EXIT_OK)


# --- verify ---------------------------------------------------------------------------------


class _AllOf(Trust):
    """Trusted only when every one of ``parts`` trusts the certificate."""

    def __init__(self, parts: Sequence[Trust]) -> None:
        self._parts = tuple(parts)

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: dt.datetime
    ) -> None:
        for part in self._parts:
            part.check(certificate, chain, at)


@dataclass(frozen=True)
class _Outcome:
    path: str
    valid: bool
    code: str | None
    message: str
    message_bg: str
    certificate: x509.Certificate | None = None
    algorithm: str | None = None
    unreadable: bool = False

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "path": self.path,
            "valid": self.valid,
            "code": self.code,
            "message": _text(lang, self.message, self.message_bg),
            "signer": _signer_info(self.certificate) if self.certificate is not None else None,
            "algorithm": self.algorithm,
        }


def _signer_info(certificate: x509.Certificate) -> dict[str, str]:
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial_hex": f"{certificate.serial_number:X}",
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": certificate.not_valid_after_utc.isoformat(),
    }


def _parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date and time", param_hint="--at"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _load_trust_files(paths: Sequence[Path], lang: str) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates.extend(load_certificates(path))
        except KeyLoadError as exc:
            _fail(EXIT_UNREADABLE, f"eintegr verify: {exc.code}: {exc.localized(lang)}")
    return certificates


def _verify_one(
    path: str,
    data: bytes,
    policy: VerificationPolicy,
    mode: str | None,
    place: str | None,
    namespaces: dict[str, str],
) -> _Outcome:
    ok_en, ok_bg = "the signature is valid", "Подписът е валиден"
    if mode == "xades":
        try:
            verified = verify_xades(data, policy, place=place, namespaces=namespaces)
        except EintegrError as exc:
            return _Outcome(path, False, exc.code, exc.message, exc.message_bg)
        return _Outcome(
            path,
            True,
            None,
            ok_en,
            ok_bg,
            verified.certificate,
            verified.signature_algorithm.value,
        )
    check = check_document_signature if mode == "document" else check_message_signature
    report = check(data, policy)
    if report.ok and report.verified is not None:
        return _Outcome(
            path,
            True,
            None,
            ok_en,
            ok_bg,
            report.verified.certificate,
            report.verified.signature_algorithm.value,
        )
    return _Outcome(path, False, report.code, report.message, report.message_bg, report.certificate)


def _read_for_verify(path: str) -> tuple[bytes | None, _Outcome | None]:
    try:
        if path == _STDIO:
            return sys.stdin.buffer.read(), None
        return Path(path).read_bytes(), None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, _Outcome(
            path,
            False,
            "IO-UNREADABLE",
            f"cannot read the file: {reason}",
            f"файлът не може да бъде прочетен: {reason}",
            unreadable=True,
        )


def _text_report(outcomes: Sequence[_Outcome], lang: str) -> str:
    lines: list[str] = []
    for outcome in outcomes:
        status = "OK  " if outcome.valid else ("ERR " if outcome.unreadable else "FAIL")
        lines.append(f"{status} {outcome.path}")
        if outcome.certificate is not None:
            cert = outcome.certificate
            signer = _text(lang, "signer", "подписал")
            serial = _text(lang, "serial", "сериен номер")
            lines.append(
                f"  {signer}: {cert.subject.rfc4514_string()} ({serial} {cert.serial_number:X})"
            )
        if outcome.algorithm:
            lines.append(f"  {_text(lang, 'algorithm', 'алгоритъм')}: {outcome.algorithm}")
        if not outcome.valid:
            message = _text(lang, outcome.message, outcome.message_bg)
            lines.append(f"  {outcome.code}: {message}")
    total = len(outcomes)
    valid = sum(o.valid for o in outcomes)
    lines.append(
        _text(
            lang,
            f"{total} files: {valid} valid, {total - valid} not valid",
            f"{total} файла: {valid} валидни, {total - valid} невалидни",
        )
    )
    return "\n".join(lines)


@click.command("verify")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="PEM/DER file with the signer's registered certificate(s) to pin (repeatable).",
)
@click.option(
    "--ca",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="PEM/DER file with trusted CA certificates (repeatable; roots and intermediates).",
)
@click.option("--allow-sha1", is_flag=True, help="Accept SHA-1 (old СЕОС deployments).")
@click.option(
    "--at",
    metavar="ISO-DATETIME",
    help="Verify as of this time (default: now; without a zone: UTC).",
)
@click.option(
    "--document",
    "mode",
    flag_value="document",
    help="Verify the Document's own signature instead of the message's.",
)
@click.option(
    "--xades", "mode", flag_value="xades", help="Verify a XAdES signature of any XML document."
)
@_PLACE
@_NS
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@_LANG
@_guarded("verify")
def verify_command(
    files: tuple[str, ...],
    trust: tuple[Path, ...],
    ca: tuple[Path, ...],
    allow_sha1: bool,
    at: str | None,
    mode: str | None,
    place: str | None,
    ns: tuple[str, ...],
    output_format: str,
    lang: str,
) -> None:
    """Verify the signatures of FILE... ('-' for standard input).

    Trust comes from --trust (pinned certificates: the sender's registered transport
    certificate) and/or --ca (a CA bundle); with both, the signer must satisfy both.
    Exit status: 0 all valid, 1 any not valid, 2 usage error, 3 unreadable input or
    internal error.
    """
    if not trust and not ca:
        raise click.UsageError("give at least one --trust or --ca")
    if mode != "xades" and (place is not None or ns):
        raise click.UsageError("--place and --ns go with --xades")
    namespaces = _namespaces(ns)
    _check_place(place, namespaces)
    moment = _parse_at(at)
    parts: list[Trust] = []
    if trust:
        parts.append(PinnedCertificates(_load_trust_files(trust, lang)))
    if ca:
        bundle = _load_trust_files(ca, lang)
        roots = [c for c in bundle if c.issuer == c.subject]
        if not roots:
            raise click.UsageError("--ca files hold no self-signed root certificate")
        intermediates = [c for c in bundle if c.issuer != c.subject]
        parts.append(CertificateAuthorities(roots, intermediates))
    policy = VerificationPolicy(
        trust=parts[0] if len(parts) == 1 else _AllOf(parts), allow_sha1=allow_sha1, at=moment
    )

    outcomes: list[_Outcome] = []
    for path in files:
        data, unreadable = _read_for_verify(path)
        if unreadable is not None or data is None:
            outcomes.append(unreadable or _Outcome(path, False, "IO-UNREADABLE", "", ""))
            continue
        outcomes.append(_verify_one(path, data, policy, mode, place, namespaces))

    if output_format == "json":
        files_json = [o.to_dict(lang) for o in outcomes]
        click.echo(json.dumps({"files": files_json}, ensure_ascii=False, indent=2))
    else:
        click.echo(_text_report(outcomes, lang))
    if any(o.unreadable for o in outcomes):
        sys.exit(EXIT_UNREADABLE)
    sys.exit(EXIT_OK if all(o.valid for o in outcomes) else EXIT_INVALID)


# --- keys -----------------------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """Make a local test PKI (CA and transport certificates) for trials — never production."""


def _write(
    issued: Issued, directory: Path, name: str, password: bytes | None, force: bool, lang: str
) -> dict[str, Path]:
    try:
        return issued.write(directory, name, password=password, overwrite=force)
    except FileExistsError as exc:
        raise click.UsageError(
            _text(lang, f"{exc}; use --force to replace", f"{exc}; използвайте --force")
        ) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--name") from None
    except OSError as exc:
        _fail(EXIT_UNREADABLE, f"eintegr keys: cannot write into {directory}: {exc}")


def _report_written(issued: Issued, paths: dict[str, Path], lang: str) -> None:
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")
    cert = issued.certificate
    click.echo(f"{_text(lang, 'subject', 'субект')}: {cert.subject.rfc4514_string()}")
    click.echo(f"{_text(lang, 'serial (hex)', 'сериен номер (hex)')}: {cert.serial_number:X}")
    click.echo(
        f"{_text(lang, 'valid', 'валиден')}: {cert.not_valid_before_utc.isoformat()} – "
        f"{cert.not_valid_after_utc.isoformat()}"
    )


_OUT_DIR = click.option(
    "-o",
    "--output-dir",
    "output_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the PEM files into (created when missing).",
)
_FORCE = click.option("--force", is_flag=True, help="Replace existing files.")
_KEY_PASSWORD = click.option(
    "--password-env",
    metavar="VAR",
    help="Encrypt the written private key with the password in this environment variable.",
)


@keys_group.command("ca")
@_OUT_DIR
@click.option("--cn", default="eintegr test CA", show_default=True, help="Common name.")
@click.option("--days", type=click.IntRange(min=1), default=3650, show_default=True)
@click.option("--key-size", type=click.IntRange(min=2048), default=2048, show_default=True)
@click.option("--name", default="ca", show_default=True, help="File stem: NAME.key.pem etc.")
@_KEY_PASSWORD
@_FORCE
@_LANG
@_guarded("keys ca")
def keys_ca_command(
    output_dir: Path,
    cn: str,
    days: int,
    key_size: int,
    name: str,
    password_env: str | None,
    force: bool,
    lang: str,
) -> None:
    """Make a self-signed test CA: NAME.key.pem and NAME.crt.pem in the output folder."""
    password = _password(password_env, lang)
    issued = make_ca(cn, key_size=key_size, valid_days=days)
    _report_written(issued, _write(issued, output_dir, name, password, force, lang), lang)


@keys_group.command("transport")
@click.option(
    "--ca-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the CA made by 'eintegr keys ca'.",
)
@click.option("--ca-name", default="ca", show_default=True, help="File stem of the CA.")
@click.option("--ca-password-env", metavar="VAR", help="Variable with the CA key's password.")
@click.option("--eik", required=True, help="ЕИК/БУЛСТАТ of the participant (subject ST=B:<ЕИК>).")
@click.option("--host", required=True, help="Host name of the participant's endpoint (CN).")
@click.option("--org", help="Organization name (subject O).")
@click.option("--key-type", type=click.Choice(["rsa", "ec"]), default="rsa", show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=730, show_default=True)
@click.option("--name", default="transport", show_default=True, help="File stem.")
@click.option("--pkcs12", "with_pkcs12", is_flag=True, help="Also write NAME.p12.")
@_OUT_DIR
@_KEY_PASSWORD
@_FORCE
@_LANG
@_guarded("keys transport")
def keys_transport_command(
    ca_dir: Path,
    ca_name: str,
    ca_password_env: str | None,
    eik: str,
    host: str,
    org: str | None,
    key_type: str,
    days: int,
    name: str,
    with_pkcs12: bool,
    output_dir: Path,
    password_env: str | None,
    force: bool,
    lang: str,
) -> None:
    """Make a СЕОС transport certificate issued by the test CA in --ca-dir."""
    password = _password(password_env, lang)
    ca_password = _password(ca_password_env, lang)
    try:
        ca = Issued.read(ca_dir, ca_name, password=ca_password)
    except KeyLoadError as exc:
        _fail(EXIT_UNREADABLE, f"eintegr keys: {exc.code}: {exc.localized(lang)}")
    try:
        issued = make_transport_certificate(
            ca,
            eik=eik,
            host=host,
            organization=org,
            valid_days=days,
            key_type="ec" if key_type == "ec" else "rsa",
        )
    except IdentifierError as exc:
        raise click.BadParameter(exc.localized(lang), param_hint="--eik") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from None
    p12_path = output_dir / f"{name}.p12"
    if with_pkcs12 and p12_path.exists() and not force:
        raise click.UsageError(
            _text(lang, f"{p12_path} exists; use --force", f"{p12_path} съществува; --force")
        )
    paths = _write(issued, output_dir, name, password, force, lang)
    if with_pkcs12:
        descriptor = os.open(p12_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(issued.pkcs12(password))
        paths["pkcs12"] = p12_path
    _report_written(issued, paths, lang)
