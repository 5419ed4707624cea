"""RFC 3161 time-stamps: a client, token verification, and a local TSA for tests and demos.

* :class:`TimestampClient` asks a time-stamping authority (TSA) over HTTP(S)
  (``application/timestamp-query`` → ``application/timestamp-reply``) for a token over some
  bytes; it is a ``Callable[[bytes], bytes]``, which is what
  :func:`eintegr.signing.xades.sign_xades` takes as ``timestamp=``;
* :func:`parse_timestamp_token` reads a token (CMS ``SignedData`` holding a ``TSTInfo``)
  without judging it; :func:`verify_timestamp_token` checks the message imprint, the CMS
  signature and signed attributes, the TSA certificate (validity at ``genTime``, key usage,
  the critical ``timeStamping`` extended key usage) and its trust (a
  :class:`~eintegr.signing.Trust`);
* :class:`TimestampAuthority` answers RFC 3161 requests with tokens signed by a key and
  certificate (for example one from :func:`make_tsa_certificate`); its :attr:`app
  <TimestampAuthority.app>` is an ASGI application to serve with
  :class:`~eintegr.transport.asgi_server.BackgroundServer`. It is a test double, not a
  qualified TSA: no accuracy guarantees, no audited clock.

ASN.1 is read and written with ``asn1crypto``; signatures are made and checked with
``cryptography``. Failures raise :class:`~eintegr.errors.VerificationError` (verification),
:class:`~eintegr.errors.SigningError` (a TSA answer that cannot be used) or
:class:`~eintegr.errors.TransportFault` (the TSA cannot be reached), with the codes below.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import ssl
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from asn1crypto import algos, cms, core, tsp  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from eintegr.errors import SigningError, TransportFault, VerificationError
from eintegr.signing.codes import FailureCode
from eintegr.signing.trust import Trust

__all__ = [
    "DEFAULT_MAX_BYTES",
    "TEST_TSA_POLICY",
    "TIMESTAMP_FAILURE_CODES",
    "TS_CERT",
    "TS_IMPRINT",
    "TS_RESPONSE",
    "TS_SIGNATURE",
    "TS_TIME",
    "TS_TOKEN",
    "TS_UNAVAILABLE",
    "TS_UNTRUSTED",
    "TimestampAuthority",
    "TimestampClient",
    "TimestampToken",
    "build_timestamp_request",
    "make_tsa_certificate",
    "parse_timestamp_token",
    "verify_timestamp_token",
]

TS_TOKEN: Final = "TS-TOKEN"  # noqa: S105 - a failure code, not a secret
"""Failure code: the time-stamp token is not a well-formed RFC 3161 token."""
TS_IMPRINT: Final = "TS-IMPRINT"
"""Failure code: the token's message imprint is not the digest of the time-stamped data."""
TS_SIGNATURE: Final = "TS-SIGNATURE"
"""Failure code: the CMS signature or a signed attribute of the token is wrong."""
TS_CERT: Final = "TS-CERT"
"""Failure code: the TSA certificate is missing, not valid at genTime, or not for time-stamping."""
TS_UNTRUSTED: Final = "TS-UNTRUSTED"
"""Failure code: the TSA certificate is not trusted."""
TS_TIME: Final = "TS-TIME"
"""Failure code: genTime lies in the future (or before the time it must follow)."""
TS_RESPONSE: Final = "TS-RESPONSE"
"""Failure code: the TSA's answer is refused, malformed, too large or does not match."""
TS_UNAVAILABLE: Final = "TS-UNAVAILABLE"
"""Failure code: the TSA cannot be reached, timed out, or answered with an HTTP error."""

TIMESTAMP_FAILURE_CODES: Final[Mapping[str, FailureCode]] = {
    f.code: f
    for f in (
        FailureCode(
            TS_TOKEN, "not a well-formed RFC 3161 token", "неправилно удостоверение за време"
        ),
        FailureCode(
            TS_IMPRINT,
            "the token was issued for other data",
            "удостоверението за време е издадено за други данни",
        ),
        FailureCode(
            TS_SIGNATURE,
            "the TSA's signature or a signed attribute is wrong",
            "подписът на доставчика или подписан атрибут е грешен",
        ),
        FailureCode(
            TS_CERT,
            "the TSA certificate is missing, not valid at genTime, or not for time-stamping",
            "сертификатът на доставчика липсва, не е валиден към времето или не е за"
            " удостоверяване на време",
        ),
        FailureCode(
            TS_UNTRUSTED,
            "the TSA certificate is not trusted",
            "сертификатът на доставчика не е доверен",
        ),
        FailureCode(
            TS_TIME,
            "genTime lies in the future or before SigningTime",
            "времето на удостоверението е в бъдещето или преди SigningTime",
        ),
        FailureCode(
            TS_RESPONSE,
            "the TSA's answer is refused, malformed, too large or does not match the request",
            "отговорът на доставчика е отказ, неправилен, твърде голям или не съответства",
        ),
        FailureCode(
            TS_UNAVAILABLE,
            "the TSA cannot be reached or answered with an HTTP error",
            "доставчикът на удостоверения за време е недостъпен или върна HTTP грешка",
        ),
    )
}
"""The time-stamp failure codes, with English and Bulgarian meanings."""

DEFAULT_MAX_BYTES: Final = 256 * 1024
"""The largest time-stamp response or token accepted, in bytes."""
TEST_TSA_POLICY: Final = "2.999.3161.1"
"""The TSA policy OID the local test TSA states (in the ITU-T example arc)."""

_QUERY_TYPE: Final = "application/timestamp-query"
_REPLY_TYPE: Final = "application/timestamp-reply"
_HASHES: Final[Mapping[str, Callable[[], hashes.HashAlgorithm]]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_DEFAULT_SKEW: Final = _dt.timedelta(minutes=5)
_PARSE_ERRORS: Final = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


class _TimeStampResp(core.Sequence):  # type: ignore[misc]
    """RFC 3161 ``TimeStampResp`` (asn1crypto's own makes the token mandatory; it is optional)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _fail(code: str, en: str, bg: str) -> VerificationError:
    return VerificationError(en, code=code, message_bg=bg)


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


@dataclass(frozen=True)
class TimestampToken:
    """An RFC 3161 time-stamp token, as read (verified only when returned by
    :func:`verify_timestamp_token`).

    :ivar der: the token (a CMS ``ContentInfo``), DER.
    :ivar gen_time: when the TSA time-stamped (tz-aware, UTC).
    :ivar serial_number: the token's serial number.
    :ivar policy: the TSA policy OID.
    :ivar hash_algorithm: the message imprint's hash (``"sha256"``, ``"sha384"``, ``"sha512"``).
    :ivar message_imprint: the digest the TSA time-stamped.
    :ivar nonce: the request's nonce echoed back, if any.
    :ivar certificate: the TSA certificate (the CMS signer), when the token carries it.
    :ivar chain: the other certificates the token carries.
    """

    der: bytes
    gen_time: _dt.datetime
    serial_number: int
    policy: str
    hash_algorithm: str
    message_imprint: bytes
    nonce: int | None = None
    certificate: x509.Certificate | None = None
    chain: tuple[x509.Certificate, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Requests and the client
# ---------------------------------------------------------------------------------------------


def build_timestamp_request(
    digest: bytes,
    *,
    hash_algorithm: str = "sha256",
    nonce: int | None = None,
    policy: str | None = None,
    cert_req: bool = True,
) -> bytes:
    """A DER ``TimeStampReq`` for ``digest`` (RFC 3161 §2.4.1).

    :raises ValueError: the hash algorithm is not SHA-256/384/512 or ``digest`` has the wrong
        length for it.
    """
    if hash_algorithm not in _HASHES:
        raise ValueError(f"unsupported time-stamp hash algorithm {hash_algorithm!r}")
    if len(digest) != _HASHES[hash_algorithm]().digest_size:
        raise ValueError(
            f"a {hash_algorithm} digest must be {_HASHES[hash_algorithm]().digest_size} bytes"
        )
    request: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": hash_algorithm},
            "hashed_message": digest,
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        request["nonce"] = nonce
    if policy is not None:
        request["req_policy"] = policy
    return bytes(tsp.TimeStampReq(request).dump())


class TimestampClient:
    """Ask an RFC 3161 TSA at ``url`` for time-stamp tokens (HTTP POST).

    Calling the client with some bytes returns a token over their SHA-256 digest (DER), after
    checking that the answer is a granted token for exactly that digest and nonce. The token
    is *not* judged for trust here: that is :func:`verify_timestamp_token`'s job.

    :param url: the TSA's URL (``http://`` or ``https://``).
    :param verify: TLS verification — ``True`` (system CAs, default) or an
        :class:`ssl.SSLContext`; ``False`` only for tests.
    :param timeout: seconds for connecting and for each read.
    :param max_bytes: the largest response accepted.
    :param policy: a TSA policy OID to request, if any.
    """

    def __init__(
        self,
        url: str,
        *,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        policy: str | None = None,
        hash_algorithm: str = "sha256",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the TSA URL must be http(s): {url!r}")
        if hash_algorithm not in _HASHES:
            raise ValueError(f"unsupported time-stamp hash algorithm {hash_algorithm!r}")
        if timeout <= 0 or max_bytes <= 0:
            raise ValueError("timeout and max_bytes must be positive")
        self.url = url
        self._verify = verify
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._policy = policy
        self._hash_algorithm = hash_algorithm

    def __call__(self, data: bytes) -> bytes:
        """The DER token over ``data`` (see :meth:`timestamp`)."""
        return self.timestamp(data)

    def timestamp(self, data: bytes) -> bytes:
        """Time-stamp ``data``: hash it, ask the TSA, check and return the token (DER).

        :raises TransportFault: ``TS-UNAVAILABLE`` — the TSA cannot be reached, timed out or
            answered with an HTTP error (retry later).
        :raises SigningError: ``TS-RESPONSE`` — the answer is refused, malformed, too large,
            or does not match the request.
        """
        digest = _hash(self._hash_algorithm, data)
        nonce = secrets.randbits(63)
        request = build_timestamp_request(
            digest, hash_algorithm=self._hash_algorithm, nonce=nonce, policy=self._policy
        )
        body = self._post(request)
        return _token_from_response(body, digest, self._hash_algorithm, nonce)

    def _post(self, request: bytes) -> bytes:
        try:
            with (
                httpx.Client(verify=self._verify, timeout=self._timeout) as client,
                client.stream(
                    "POST", self.url, content=request, headers={"Content-Type": _QUERY_TYPE}
                ) as response,
            ):
                if response.status_code != 200:
                    raise TransportFault(
                        f"the TSA answered HTTP {response.status_code}",
                        code=TS_UNAVAILABLE,
                        message_bg=f"Услугата за удостоверяване на време отговори с HTTP"
                        f" {response.status_code}",
                    )
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                if content_type.lower() != _REPLY_TYPE:
                    raise _response_error(
                        f"the TSA answered with content type {content_type!r}, not {_REPLY_TYPE}",
                        f"Услугата за време отговори с тип {content_type!r}, а не {_REPLY_TYPE}",
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise _response_error(
                            f"the TSA answer exceeds {self._max_bytes} bytes",
                            f"Отговорът на услугата за време надхвърля {self._max_bytes} байта",
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise TransportFault(
                f"the TSA at {self.url} cannot be reached: {exc}",
                code=TS_UNAVAILABLE,
                message_bg=f"Услугата за удостоверяване на време {self.url} е недостъпна",
            ) from None

    def __repr__(self) -> str:
        return f"TimestampClient({self.url!r})"


def _response_error(en: str, bg: str) -> SigningError:
    return SigningError(en, code=TS_RESPONSE, message_bg=bg)


def _token_from_response(body: bytes, digest: bytes, hash_algorithm: str, nonce: int) -> bytes:
    try:
        response = _TimeStampResp.load(body, strict=True)
        status = response["status"]["status"].native
        token_info = response["time_stamp_token"]
        token = None if isinstance(token_info, core.Void) else token_info.dump()
    except _PARSE_ERRORS as exc:
        raise _response_error(
            f"the TSA answer is not a TimeStampResp: {exc}",
            "Отговорът на услугата за време не е TimeStampResp",
        ) from None
    if status not in ("granted", "granted_with_mods") or token is None:
        text = response["status"]["status_string"].native
        raise _response_error(
            f"the TSA refused the request: {status} {text or ''}".strip(),
            f"Услугата за време отказа заявката: {status}",
        )
    try:
        parsed = parse_timestamp_token(bytes(token))
    except VerificationError as exc:
        raise _response_error(str(exc), exc.message_bg) from None
    if parsed.hash_algorithm != hash_algorithm or parsed.message_imprint != digest:
        raise _response_error(
            "the TSA time-stamped another digest than the one requested",
            "Услугата за време удостовери друг хеш, а не заявения",
        )
    if parsed.nonce != nonce:
        raise _response_error(
            "the TSA answer does not echo the request's nonce",
            "Отговорът на услугата за време не повтаря nonce от заявката",
        )
    return bytes(token)


# ---------------------------------------------------------------------------------------------
# Reading and verifying tokens
# ---------------------------------------------------------------------------------------------


def _to_crypto(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


def _signed_data(der: bytes) -> cms.SignedData:
    if len(der) > DEFAULT_MAX_BYTES:
        raise _fail(
            TS_TOKEN,
            f"the time-stamp token exceeds {DEFAULT_MAX_BYTES} bytes",
            f"Удостоверението за време надхвърля {DEFAULT_MAX_BYTES} байта",
        )
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    signed = info["content"]
    if not isinstance(signed, cms.SignedData):
        raise ValueError("not a CMS SignedData")
    return signed


def parse_timestamp_token(der: bytes) -> TimestampToken:
    """Read an RFC 3161 token (DER ``ContentInfo``) without verifying it.

    :raises VerificationError: ``TS-TOKEN`` — not a ``SignedData`` with exactly one signer and
        an ``id-ct-TSTInfo`` content, or an unsupported imprint hash.
    """
    try:
        signed = _signed_data(der)
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise ValueError("the encapsulated content is not a TSTInfo")
        if len(signed["signer_infos"]) != 1:
            raise ValueError("a time-stamp token has exactly one signer")
        info = encap["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("the encapsulated content is not a TSTInfo")
        imprint = info["message_imprint"]
        hash_algorithm = imprint["hash_algorithm"]["algorithm"].native
        gen_time = info["gen_time"].native
        certificates = [
            _to_crypto(c.chosen)
            for c in signed["certificates"]
            if isinstance(c.chosen, asn1_x509.Certificate)
        ]
        signer_cert = _find_signer(signed["signer_infos"][0], certificates)
        token = TimestampToken(
            der=der,
            gen_time=gen_time.astimezone(_dt.UTC),
            serial_number=int(info["serial_number"].native),
            policy=str(info["policy"].dotted),
            hash_algorithm=str(hash_algorithm),
            message_imprint=bytes(imprint["hashed_message"].native),
            nonce=info["nonce"].native,
            certificate=signer_cert,
            chain=tuple(c for c in certificates if c is not signer_cert),
        )
    except VerificationError:
        raise
    except _PARSE_ERRORS as exc:
        raise _fail(
            TS_TOKEN,
            f"the time-stamp token cannot be read: {exc}",
            "Удостоверението за време не може да бъде прочетено",
        ) from None
    if token.hash_algorithm not in _HASHES:
        raise _fail(
            TS_TOKEN,
            f"the time-stamp imprint uses {token.hash_algorithm!r}; SHA-256/384/512 are accepted",
            f"Удостоверението за време използва {token.hash_algorithm!r};"
            " приемат се SHA-256/384/512",
        )
    return token


def _find_signer(
    signer_info: cms.SignerInfo, certificates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"].dump()
        serial = sid.chosen["serial_number"].native
        for cert in certificates:
            if cert.serial_number == serial and cert.issuer.public_bytes() == issuer:
                return cert
        return None
    key_id = sid.chosen.native
    for cert in certificates:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            continue
        if ski.digest == key_id:
            return cert
    return None


def verify_timestamp_token(
    token_der: bytes,
    data_digest: bytes,
    *,
    trust: Trust,
    at: _dt.datetime | None = None,
    hash_algorithm: str | None = None,
    max_clock_skew: _dt.timedelta = _DEFAULT_SKEW,
) -> TimestampToken:
    """Verify an RFC 3161 token over ``data_digest`` and return it.

    Checks, in order: the token's structure; that the imprint is ``data_digest`` (computed
    with ``hash_algorithm`` when given, which must then be the token's); the signed
    attributes (content type, message digest, ``ESSCertID(v2)`` naming the TSA certificate);
    the CMS signature; the TSA certificate — valid at ``genTime``, key usage (when present)
    allowing signatures, extended key usage exactly ``timeStamping`` and critical
    (RFC 3161 §2.3); trust in it at ``at`` via ``trust``; and ``genTime`` not after
    ``at + max_clock_skew``.

    :param at: the verification time (tz-aware); default now.
    :raises VerificationError: ``TS-TOKEN``, ``TS-IMPRINT``, ``TS-SIGNATURE``, ``TS-CERT``,
        ``TS-UNTRUSTED`` or ``TS-TIME``.
    """
    moment = at or _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    token = parse_timestamp_token(token_der)
    if hash_algorithm is not None and hash_algorithm != token.hash_algorithm:
        raise _fail(
            TS_IMPRINT,
            f"the token's imprint uses {token.hash_algorithm}, expected {hash_algorithm}",
            f"Удостоверението използва {token.hash_algorithm}, а се очаква {hash_algorithm}",
        )
    if not secrets.compare_digest(token.message_imprint, data_digest):
        raise _fail(
            TS_IMPRINT,
            "the time-stamp token was issued for other data (message imprint differs)",
            "Удостоверението за време е издадено за други данни (хешът се различава)",
        )
    certificate = token.certificate
    if certificate is None:
        raise _fail(
            TS_CERT,
            "the time-stamp token does not carry the TSA certificate",
            "Удостоверението за време не съдържа сертификата на доставчика",
        )
    _check_cms_signature(token_der, certificate)
    _check_tsa_certificate(certificate, token.gen_time)
    try:
        trust.check(certificate, token.chain, moment)
    except VerificationError as exc:
        raise _fail(
            TS_UNTRUSTED,
            f"the TSA certificate is not trusted: {exc}",
            f"Сертификатът на доставчика на удостоверения за време не е доверен: {exc.message_bg}",
        ) from None
    if token.gen_time > moment + max_clock_skew:
        raise _fail(
            TS_TIME,
            f"the time-stamp genTime {token.gen_time.isoformat()} lies in the future",
            f"Времето на удостоверението {token.gen_time.isoformat()} е в бъдещето",
        )
    return token


def _check_cms_signature(der: bytes, certificate: x509.Certificate) -> None:
    def bad(en: str, bg: str) -> VerificationError:
        return _fail(TS_SIGNATURE, en, bg)

    try:
        signed = _signed_data(der)
        signer_info = signed["signer_infos"][0]
        digest_name = signer_info["digest_algorithm"]["algorithm"].native
        attributes = signer_info["signed_attrs"]
        if isinstance(attributes, core.Void) or not len(attributes):
            raise bad(
                "the token has no signed attributes", "Удостоверението няма подписани атрибути"
            )
        values: dict[str, list[Any]] = {}
        for attribute in attributes:
            values.setdefault(attribute["type"].native, []).extend(attribute["values"])
        content = signed["encap_content_info"]["content"].contents
        signed_bytes = b"\x31" + attributes.dump()[1:]
        signature = signer_info["signature"].native
        signature_algorithm = signer_info["signature_algorithm"]
        scheme = signature_algorithm.signature_algo
    except VerificationError:
        raise
    except _PARSE_ERRORS as exc:
        raise bad(
            f"the token's signer information cannot be read: {exc}",
            "Данните за подписа на удостоверението не могат да бъдат прочетени",
        ) from None
    if digest_name not in _HASHES:
        raise bad(
            f"the token is signed with digest {digest_name!r}; SHA-256/384/512 are accepted",
            f"Удостоверението е подписано с хеш {digest_name!r}; приемат се SHA-256/384/512",
        )
    content_types = [v.native for v in values.get("content_type", [])]
    digests = [v.native for v in values.get("message_digest", [])]
    if content_types != ["tst_info"] or len(digests) != 1:
        raise bad(
            "the token's signed attributes must state content type TSTInfo and one digest",
            "Подписаните атрибути трябва да посочват тип TSTInfo и един хеш",
        )
    if not secrets.compare_digest(digests[0], _hash(digest_name, content)):
        raise bad(
            "the TSTInfo was changed after the TSA signed it",
            "TSTInfo е променено след подписването от доставчика",
        )
    _check_ess_cert_id(values, certificate, bad)
    chosen = _HASHES[digest_name]()
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey) and scheme == "rsassa_pkcs1v15":
            public.verify(signature, signed_bytes, padding.PKCS1v15(), chosen)
        elif isinstance(public, rsa.RSAPublicKey) and scheme == "rsassa_pss":
            salt = signature_algorithm["parameters"]["salt_length"].native
            mgf = padding.MGF1(_HASHES[digest_name]())
            public.verify(signature, signed_bytes, padding.PSS(mgf, salt), chosen)
        elif isinstance(public, ec.EllipticCurvePublicKey) and scheme == "ecdsa":
            public.verify(signature, signed_bytes, ec.ECDSA(chosen))
        else:
            raise bad(
                f"signature scheme {scheme!r} does not fit the TSA key",
                f"Схемата на подписа {scheme!r} не съответства на ключа на доставчика",
            )
    except InvalidSignature:
        raise bad(
            "the TSA's signature on the time-stamp token is wrong",
            "Подписът на доставчика върху удостоверението за време е грешен",
        ) from None


def _check_ess_cert_id(
    values: Mapping[str, list[Any]],
    certificate: x509.Certificate,
    bad: Callable[[str, str], VerificationError],
) -> None:
    der = certificate.public_bytes(serialization.Encoding.DER)
    v2 = values.get("signing_certificate_v2", [])
    v1 = values.get("signing_certificate", [])
    if len(v2) + len(v1) != 1:
        raise bad(
            "the token must name its TSA certificate in one signing-certificate attribute",
            "Удостоверението трябва да посочва сертификата на доставчика в един атрибут",
        )
    if v2:
        first = v2[0]["certs"][0]
        name = first["hash_algorithm"]["algorithm"].native
        if name not in _HASHES:
            raise bad(f"ESSCertIDv2 uses {name!r}", f"ESSCertIDv2 използва {name!r}")
        expected = _hash(name, der)
    else:
        first = v1[0]["certs"][0]
        expected = hashlib.sha1(der, usedforsecurity=False).digest()  # RFC 3161's ESSCertID
    if not secrets.compare_digest(first["cert_hash"].native, expected):
        raise bad(
            "the signing-certificate attribute names another certificate than the signer's",
            "Атрибутът signing-certificate сочи друг сертификат, а не този на подписващия",
        )


def _check_tsa_certificate(certificate: x509.Certificate, gen_time: _dt.datetime) -> None:
    if not certificate.not_valid_before_utc <= gen_time <= certificate.not_valid_after_utc:
        raise _fail(
            TS_CERT,
            f"the TSA certificate was not valid at genTime {gen_time.isoformat()}",
            f"Сертификатът на доставчика не е бил валиден към {gen_time.isoformat()}",
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise _fail(
            TS_CERT,
            "the TSA certificate's key usage does not allow signatures",
            "Използването на ключа на сертификата на доставчика не позволява подписване",
        )
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise _fail(
            TS_CERT,
            "the TSA certificate must have the critical extended key usage timeStamping only",
            "Сертификатът на доставчика трябва да има само критичното разширено използване"
            " timeStamping",
        )


# ---------------------------------------------------------------------------------------------
# A local TSA for tests and demos
# ---------------------------------------------------------------------------------------------


def make_tsa_certificate(
    issuer_key: Any = None,
    issuer_certificate: x509.Certificate | None = None,
    *,
    common_name: str = "eintegr test TSA",
    time_stamping: bool = True,
    valid_from: _dt.datetime | None = None,
    valid_days: int = 365,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A test TSA key (RSA-2048) and certificate, issued by the given CA or self-signed.

    The certificate has key usage digitalSignature + nonRepudiation and — unless
    ``time_stamping`` is false (to test refusals) — the critical extended key usage
    ``timeStamping``.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eintegr test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = valid_from or _dt.datetime.now(_dt.UTC) - _dt.timedelta(minutes=5)
    signing_key = issuer_key if issuer_key is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_certificate.subject if issuer_certificate else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if time_stamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return key, builder.sign(signing_key, hashes.SHA256())


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class TimestampAuthority:
    """A local RFC 3161 TSA signing tokens with ``key`` and ``certificate`` (tests, demos).

    :param key: the TSA's private key (RSA or EC).
    :param certificate: its certificate (see :func:`make_tsa_certificate`).
    :param chain: CA certificates to include in tokens.
    :param policy: the TSA policy OID stated in tokens.
    :param clock: returns the time to state as ``genTime`` (tz-aware); default now.
    :param max_request_bytes: the largest request accepted.
    """

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        *,
        chain: Sequence[x509.Certificate] = (),
        policy: str = TEST_TSA_POLICY,
        clock: Callable[[], _dt.datetime] | None = None,
        max_request_bytes: int = 16 * 1024,
    ) -> None:
        self._key = key
        self.certificate = certificate
        self._chain = tuple(chain)
        self._policy = policy
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._max_request_bytes = max_request_bytes
        self._serial = secrets.randbits(62)

    def token(self, data: bytes) -> bytes:
        """A token (DER) over the SHA-256 digest of ``data``: a ``Callable[[bytes], bytes]``
        for :func:`~eintegr.signing.xades.sign_xades` without HTTP."""
        return self._token(_hash("sha256", data), "sha256", None)

    def respond(self, request_der: bytes) -> bytes:
        """The DER ``TimeStampResp`` to a DER ``TimeStampReq`` (a rejection when malformed)."""
        try:
            request = tsp.TimeStampReq.load(request_der, strict=True)
            imprint = request["message_imprint"]
            hash_algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = bytes(imprint["hashed_message"].native)
            nonce = request["nonce"].native
            requested_policy = request["req_policy"].native
        except _PARSE_ERRORS:
            return _rejection("bad_data_format", "the request is not a TimeStampReq")
        if hash_algorithm not in _HASHES or len(digest) != _HASHES[hash_algorithm]().digest_size:
            return _rejection("bad_alg", "unsupported hash algorithm")
        if requested_policy is not None and requested_policy != self._policy:
            return _rejection("unaccepted_policy", "unknown policy")
        token = self._token(digest, hash_algorithm, nonce)
        response = _TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(token)}
        )
        return bytes(response.dump())

    def _token(self, digest: bytes, hash_algorithm: str, nonce: int | None) -> bytes:
        self._serial += 1
        info: dict[str, Any] = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": digest,
            },
            "serial_number": self._serial,
            "gen_time": self._clock().astimezone(_dt.UTC),
        }
        if nonce is not None:
            info["nonce"] = nonce
        tst_info = tsp.TSTInfo(info)
        content = tst_info.dump()
        cert_der = self.certificate.public_bytes(serialization.Encoding.DER)
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [_hash("sha256", content)]},
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": _hash("sha256", cert_der)}]}],
                },
            ]
        )
        to_sign = attributes.dump()
        if isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
            signature_algorithm = "rsassa_pkcs1v15"
        else:
            signature = self._key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
            signature_algorithm = "sha256_ecdsa"
        asn1_cert = asn1_x509.Certificate.load(cert_der)
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": asn1_cert.issuer,
                            "serial_number": asn1_cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm(
                    {"algorithm": signature_algorithm}
                ),
                "signature": signature,
            }
        )
        certificates = [asn1_cert] + [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in self._chain
        ]
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": cms.ParsableOctetString(content),
                },
                "certificates": certificates,
                "signer_infos": [signer_info],
            }
        )
        return bytes(
            cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
        )

    @property
    def app(self) -> Callable[[_Scope, _Receive, _Send], Awaitable[None]]:
        """The ASGI 3 application: ``POST`` an ``application/timestamp-query``, get a reply."""

        async def app(scope: _Scope, receive: _Receive, send: _Send) -> None:
            await self._serve(scope, receive, send)

        return app

    async def _serve(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST":
            await _plain(send, 405, b"POST an application/timestamp-query\n")
            return
        if headers.get("content-type", "").split(";")[0].strip().lower() != _QUERY_TYPE:
            await _plain(send, 415, b"expected application/timestamp-query\n")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self._max_request_bytes:
                await _plain(send, 413, b"request too large\n")
                return
            if not message.get("more_body", False):
                break
        reply = self.respond(bytes(body))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", _REPLY_TYPE.encode()),
                    (b"content-length", str(len(reply)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": reply})


async def _plain(send: _Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(text)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


def _rejection(fail_info: str, text: str) -> bytes:
    return bytes(
        _TimeStampResp(
            {
                "status": {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            }
        ).dump()
    )
