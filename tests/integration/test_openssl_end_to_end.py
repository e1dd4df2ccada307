"""The PKI checked from outside, with tools nobody here wrote: OpenSSL and OpenSC.

Two servers run on 127.0.0.1 for real: Django (pytest-django's `live_server`: the CRLs and CA
certificates under /pki/) and the OCSP responder under uvicorn, in a thread of this process.
EKORT_PUBLIC_URL and EKORT_OCSP_URL point at them before the CA hierarchy is made, so the CDP
and AIA written into every certificate lead `openssl` to these servers.

Everything happens at the real current time (`clock.now()`, not simulated): OpenSSL checks
thisUpdate/nextUpdate of OCSP responses and CRLs, and the certificates' validity, against the
real clock. The hierarchy is made a day earlier.

The tests commit (transaction=True): both servers read the database in threads of their own.
Each `openssl` run is a subprocess with a timeout; its output is in every assertion message.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID as AIA

from ekort.responder.app import Responder
from ekort.responder.store import ResponseStore
from ekort.services import cards, clock
from ekort.services.ca import authority, backends, holder_certificates
from ekort.services.ca.authority import Hierarchy, certificate_of, slug
from ekort.services.ca.status import build_crl
from ekort.store.models import Card, Certificate, CertificateAuthority, OcspResponse
from tests import factories, tools
from tests.factories import World
from tests.integration.journeys import PASSPORT, PIN, sent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    tools.needs(tools.OPENSSL),
]

POLL = 0.05  # the responder's poll interval, seconds
TIMEOUT = 20  # for each subprocess, seconds
FOREIGN = "Region Uppsala Person ID 3 CA v1"
SIGNATURE_CODE = "739164"
SOFTHSM_MODULE = str(tools.SOFTHSM.files[0])


# --- running things ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    args: Sequence[str]
    returncode: int
    out: str  # stdout and stderr together: openssl says "Response verify OK" on stderr

    def __str__(self) -> str:
        return f"$ {' '.join(self.args)}\n(exit {self.returncode})\n{self.out}"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, ok: bool = True) -> Ran:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    ran = Ran(args, result.returncode, result.stdout + result.stderr)
    if ok:
        assert ran.returncode == 0, str(ran)
    return ran


def now() -> datetime:
    """The real current instant (the fixture makes sure no simulation is configured)."""
    return clock.now()


def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (http://127.0.0.1)
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


# --- the two servers -----------------------------------------------------------------------


@dataclass
class OcspServer:
    url: str
    responder: Responder


@pytest.fixture
def ocsp_server(transactional_db: None) -> Iterator[OcspServer]:
    """The responder app under uvicorn on a free port of 127.0.0.1, in a background thread.
    Its lifespan startup loads the store and polls the database every POLL seconds; it is
    stopped before the test's data is flushed."""
    responder = Responder(ResponseStore(), poll_interval=POLL)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        responder,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,  # leave the process's logging alone
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="uvicorn-ocsp", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if http_get(url + "/health")[0] == 200:
                break
        except OSError:
            pass
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "the OCSP responder did not answer /health"
        time.sleep(0.02)
    try:
        yield OcspServer(url, responder)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        assert not thread.is_alive(), "uvicorn did not stop"


# --- the region: a hierarchy whose certificates point at the running servers ----------------


@dataclass
class Region:
    dir: Path  # where the PEM files go; openssl runs here
    django_url: str
    ocsp: OcspServer
    hierarchy: Hierarchy
    foreign: CertificateAuthority
    world: World

    @property
    def ca(self) -> CertificateAuthority:
        return self.hierarchy.issuing["3"]

    def pem(self, name: str, *ders: bytes) -> str:
        """PEM file `name` holding these certificates; returns its name (openssl's cwd)."""
        text = b"".join(
            x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
            for der in ders
        )
        (self.dir / name).write_bytes(text)
        return name

    def ca_files(self) -> None:
        """root.pem, issuing.pem, chain.pem (issuing + root), foreign.pem."""
        root, issuing = bytes(self.hierarchy.root.certificate_der), bytes(self.ca.certificate_der)
        self.pem("root.pem", root)
        self.pem("issuing.pem", issuing)
        self.pem("chain.pem", issuing, root)
        self.pem("foreign.pem", bytes(self.foreign.certificate_der))

    def openssl(self, *args: str, ok: bool = True) -> Ran:
        return run("openssl", *args, cwd=self.dir, ok=ok)

    def ask_ocsp(self, cert_file: str, url: str) -> Ran:
        return self.openssl(
            *("ocsp", "-issuer", "issuing.pem", "-cert", cert_file, "-url", url),
            *("-CAfile", "chain.pem", "-no_nonce", "-timeout", str(TIMEOUT)),
        )

    def verify_chain(self, cert_file: str) -> Ran:
        """`openssl verify` against the root, without revocation checks."""
        return self.openssl("verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", cert_file)

    def verify_with_crl(self, cert_file: str, *, ok: bool = True) -> Ran:
        return self.openssl(
            *("verify", "-crl_check", "-crl_download"),
            *("-CAfile", "root.pem", "-untrusted", "issuing.pem", cert_file),
            ok=ok,
        )

    def served(self, record: Certificate, *, within: float = 2.0) -> float:
        """Wait until the responder's memory holds the stored response of `record` that the
        database holds now; returns how long that took."""
        ca = CertificateAuthority.objects.get(pk=record.issuer_id)
        latest = bytes(OcspResponse.objects.get(issuer=ca, serial=record.serial).der)
        key = (ca.name_sha1, ca.key_sha1, int(record.serial, 16))
        started = time.monotonic()
        while True:
            stored = self.ocsp.responder.store.responses.get(key)
            waited = time.monotonic() - started
            if stored is not None and stored.der == latest:
                return waited
            assert waited < within, f"the responder did not serve the new response in {within} s"
            time.sleep(0.005)


def record(card: Card, profile: str) -> Certificate:
    return Certificate.objects.get(card=card, profile=profile, on_card=True)


def aia_url(der: bytes, method: x509.ObjectIdentifier = AIA.OCSP) -> str:
    """The certificate's AIA URL for `method` (by default its OCSP responder)."""
    cert = x509.load_der_x509_certificate(der)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    (url,) = [d.access_location.value for d in aia if d.access_method == method]
    return str(url)


def cdp_url(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return str(cdp[0].full_name[0].value)


@pytest.fixture
def region(live_server: Any, ocsp_server: OcspServer, settings: Any, tmp_path: Path) -> Region:
    settings.EKORT_SIMULATED_NOW = ""
    clock.reset()
    assert not clock.is_simulated()
    host, port = live_server.thread.httpd.socket.getsockname()[:2]
    django_url = f"http://{host}:{port}"
    settings.EKORT_PUBLIC_URL = django_url
    settings.EKORT_OCSP_URL = ocsp_server.url
    backends.reset()
    yesterday = now() - timedelta(days=1)
    hierarchy = authority.init_hierarchy(now=yesterday)
    foreign = authority.init_foreign_issuer(
        name=FOREIGN, organisation="Region Uppsala", now=yesterday
    )
    r = Region(tmp_path, django_url, ocsp_server, hierarchy, foreign, factories.world())
    r.ca_files()
    return r


def sent_home(r: Region) -> Card:
    """A photo card ordered, photographed, produced and sent home just now."""
    at = now()
    card = sent(r.world, "photo", at, at)
    assert card.state == "sent_inactive", card.state
    return card


def activate(r: Region, card: Card) -> Card:
    return cards.activate(
        actor=r.world.id_admin, now=now(), activations={card.pk: cards.Activation(PASSPORT, PIN)}
    ).one()


# --- the journey -----------------------------------------------------------------------------


def test_a_card_from_hold_to_good_to_revoked_as_openssl_sees_it(region: Region) -> None:
    r = region
    card = sent_home(r)
    auth = record(card, "auth")
    assert auth.status == Certificate.Status.ON_HOLD
    r.pem("auth.pem", bytes(auth.der))
    url = aia_url(bytes(auth.der))
    assert url == f"{r.ocsp.url}/ocsp/{slug(r.ca)}"
    assert cdp_url(bytes(auth.der)) == f"{r.django_url}/pki/crl/{slug(r.ca)}.crl"

    # 1. Sent home, not activated: on hold, to OCSP and in the CRL. No response was signed
    # ahead for it (status.note_issued_on_hold): the responder answers it from the database.
    assert not OcspResponse.objects.filter(issuer=r.ca, serial=auth.serial).exists()
    held = r.ask_ocsp("auth.pem", url)
    assert "Response verify OK" in held.out, held
    assert "auth.pem: revoked" in held.out, held
    assert "Reason: certificateHold" in held.out, held
    build_crl(r.ca, now())
    on_crl = r.verify_with_crl("auth.pem", ok=False)
    assert on_crl.returncode != 0, on_crl
    assert "certificate revoked" in on_crl.out, on_crl

    # 2. Activated: good.
    activate(r, card)
    auth.refresh_from_db()
    assert auth.status == Certificate.Status.VALID
    r.served(auth)
    good = r.ask_ocsp("auth.pem", url)
    assert "Response verify OK" in good.out, good
    assert "auth.pem: good" in good.out, good

    # 3. The CRL, fetched by openssl from the certificate's CDP on the live server.
    build_crl(r.ca, now())
    verified = r.verify_with_crl("auth.pem")
    assert "auth.pem: OK" in verified.out, verified
    # The whole chain: the root's CRL is at the issuing CA's CDP. OpenSSL also wants a CRL
    # for the self-signed root, which names no CDP: that one it is given as a file.
    build_crl(r.hierarchy.root, now())
    status, _, root_crl = http_get(cdp_url(bytes(r.ca.certificate_der)))
    assert status == 200
    (r.dir / "root.crl").write_bytes(root_crl)
    whole = r.openssl(
        *("verify", "-crl_check_all", "-crl_download", "-CRLfile", "root.crl"),
        *("-CAfile", "root.pem", "-untrusted", "issuing.pem", "auth.pem"),
    )
    assert "auth.pem: OK" in whole.out, whole

    # 4. Lost: revoked (keyCompromise) as soon as the block commits, and in the next CRL.
    cards.block(
        actor=r.world.support,
        reason="lost",
        requested_by="the holder",
        now=now(),
        card_ids=[card.pk],
    ).one()
    assert r.served(auth, within=1.0) < 1.0
    revoked = r.ask_ocsp("auth.pem", url)
    assert "Response verify OK" in revoked.out, revoked
    assert "auth.pem: revoked" in revoked.out, revoked
    assert "Reason: keyCompromise" in revoked.out, revoked
    build_crl(r.ca, now())
    refused = r.verify_with_crl("auth.pem", ok=False)
    assert refused.returncode != 0, refused
    assert "certificate revoked" in refused.out, refused


def test_every_profile_on_the_card_verifies_with_openssl(region: Region) -> None:
    r = region
    card = activate(r, sent_home(r))
    signature = holder_certificates.download_signature_certificate(
        actor=r.world.holder,
        card_id=card.pk,
        pin=PIN,
        signature_code=SIGNATURE_CODE,
        now=now(),
    )
    additional = holder_certificates.add_additional_certificate(
        actor=r.world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=now()
    )
    r.pem("auth.pem", bytes(record(card, "auth").der))
    r.pem("signature.pem", bytes(signature.der))
    r.pem("additional.pem", bytes(additional.der))
    build_crl(r.ca, now())
    for name in ("auth.pem", "signature.pem"):
        verified = r.verify_with_crl(name)
        assert f"{name}: OK" in verified.out, verified

    # The additional certificate's chain is the other region's CA alone; its CRL too is
    # where the certificate's CDP says.
    build_crl(r.foreign, now())
    assert cdp_url(bytes(additional.der)) == f"{r.django_url}/pki/crl/{slug(r.foreign)}.crl"
    with_crl = r.openssl(
        *("verify", "-crl_check", "-crl_download", "-CAfile", "foreign.pem", "additional.pem"),
    )
    assert "additional.pem: OK" in with_crl.out, with_crl
    status, _, issuer = http_get(aia_url(bytes(additional.der), AIA.CA_ISSUERS))
    assert (status, issuer) == (200, bytes(r.foreign.certificate_der))
    # And the other region's responder (here, the same process) vouches for it.
    r.served(additional)
    answer = r.openssl(
        *("ocsp", "-issuer", "foreign.pem", "-cert", "additional.pem"),
        *("-url", aia_url(bytes(additional.der)), "-CAfile", "foreign.pem", "-no_nonce"),
        *("-timeout", str(TIMEOUT)),
    )
    assert "Response verify OK" in answer.out, answer
    assert "additional.pem: good" in answer.out, answer

    # The signature certificate is for signing only, and says so.
    text = r.openssl("x509", "-in", "signature.pem", "-noout", "-text").out
    assert "Non Repudiation" in text
    assert "Digital Signature" not in text


# --- the responder, over HTTP ------------------------------------------------------------------


def test_an_unknown_serial_and_the_get_form(region: Region) -> None:
    r = region
    card = activate(r, sent_home(r))
    auth = record(card, "auth")
    r.pem("auth.pem", bytes(auth.der))
    url = aia_url(bytes(auth.der))

    # 5. A serial this CA never issued.
    unknown = r.openssl(
        *("ocsp", "-issuer", "issuing.pem", "-serial", "0x1234", "-url", url),
        *("-CAfile", "chain.pem", "-no_nonce", "-timeout", str(TIMEOUT)),
    )
    assert "Response verify OK" in unknown.out, unknown
    assert "0x1234: unknown" in unknown.out, unknown

    # 6. GET (RFC 6960 A.1): openssl writes the request, the URL carries it in base64, and
    # openssl reads and verifies the answer.
    r.served(auth)
    r.openssl(
        *("ocsp", "-issuer", "issuing.pem", "-cert", "auth.pem", "-no_nonce"),
        *("-reqout", "request.der"),
    )
    encoded = base64.b64encode((r.dir / "request.der").read_bytes()).decode("ascii")
    status, headers, body = http_get(f"{url}/{urllib.parse.quote(encoded, safe='')}")
    assert status == 200
    assert headers["content-type"] == "application/ocsp-response"
    assert headers["cache-control"].startswith("max-age=")
    assert ocsp.load_der_ocsp_response(body).certificate_status == ocsp.OCSPCertStatus.GOOD
    (r.dir / "response.der").write_bytes(body)
    got = r.openssl(
        *("ocsp", "-respin", "response.der", "-issuer", "issuing.pem", "-cert", "auth.pem"),
        *("-CAfile", "chain.pem", "-no_nonce"),
    )
    assert "Response verify OK" in got.out, got
    assert "auth.pem: good" in got.out, got


def test_the_responder_certificate_says_ocsp_no_check(region: Region) -> None:
    r = region
    r.pem("responder.pem", bytes(r.hierarchy.responders["3"].certificate_der))
    text = r.openssl("x509", "-in", "responder.pem", "-noout", "-text")
    assert "OCSP No Check" in text.out, text
    assert "OCSP Signing" in text.out, text
    chained = r.verify_chain("responder.pem")
    assert "responder.pem: OK" in chained.out, chained


def test_each_issuing_cas_own_status_is_good_where_its_certificate_says_to_ask(
    region: Region,
) -> None:
    """A relying party checks the issuing CA too: every revocation source its certificate
    names (OCSP in its AIA, the root's CRL at its CDP) must answer, and say good."""
    r = region
    build_crl(r.hierarchy.root, now())
    for level, ca in r.hierarchy.issuing.items():
        name = r.pem(f"issuing-{level}.pem", bytes(ca.certificate_der))
        cert = x509.load_der_x509_certificate(bytes(ca.certificate_der))
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        for url in [d.access_location.value for d in aia if d.access_method == AIA.OCSP]:
            asked = r.openssl(
                *("ocsp", "-issuer", "root.pem", "-cert", name, "-url", url),
                *("-CAfile", "root.pem", "-no_nonce", "-timeout", str(TIMEOUT)),
                ok=False,
            )
            assert "Response verify OK" in asked.out, asked
            assert f"{name}: good" in asked.out, asked
        assert cdp_url(bytes(ca.certificate_der)) == (
            f"{r.django_url}/pki/crl/{slug(r.hierarchy.root)}.crl"
        )
        on_crl = r.openssl(
            *("verify", "-crl_check", "-crl_download", "-CAfile", "root.pem", name),
        )
        assert f"{name}: OK" in on_crl.out, on_crl


# --- the Django side, over HTTP ----------------------------------------------------------------


def test_crls_and_ca_certificates_over_http(region: Region) -> None:
    r = region
    card = sent_home(r)  # on hold: one entry in the CRL
    auth = record(card, "auth")
    build_crl(r.ca, now())

    status, headers, body = http_get(cdp_url(bytes(auth.der)))
    assert status == 200
    assert headers["Content-Type"] == "application/pkix-crl"
    (r.dir / "issuing.crl").write_bytes(body)
    crl = r.openssl("crl", "-inform", "DER", "-in", "issuing.crl", "-noout", "-text")
    assert "Certificate Revocation List (CRL)" in crl.out, crl
    listed = re.findall(r"Serial Number: ([0-9A-F]+)", crl.out)
    assert [int(serial, 16) for serial in listed] == [int(auth.serial, 16)], crl
    assert "Certificate Hold" in crl.out, crl
    # Signed by the issuing CA, by openssl's reckoning.
    checked = r.openssl(
        *("crl", "-inform", "DER", "-in", "issuing.crl", "-noout"),
        *("-CAfile", "chain.pem"),
    )
    assert "verify OK" in checked.out, checked

    # The AIA caIssuers URL: the issuing CA's certificate, DER.
    status, headers, body = http_get(aia_url(bytes(auth.der), AIA.CA_ISSUERS))
    assert status == 200
    assert headers["Content-Type"] == "application/pkix-cert"
    (r.dir / "fetched.crt").write_bytes(body)
    fetched = r.openssl("x509", "-inform", "DER", "-in", "fetched.crt", "-noout", "-subject")
    assert "ekort e-id Person ID 3 CA v1" in fetched.out, fetched
    assert body == bytes(r.ca.certificate_der)

    # No CRL of the root yet: 404, not an empty body that openssl would choke on.
    status, _, _ = http_get(f"{r.django_url}/pki/crl/{slug(r.hierarchy.root)}.crl")
    assert status == 404


# --- the chip as a PKCS#11 token ----------------------------------------------------------------


@dataclass(frozen=True)
class SoftHsm:
    module: str
    env: dict[str, str]


def _finalise_softhsm(module: str) -> None:
    """Make SoftHSM read SOFTHSM2_CONF again on its next use in this process.

    SoftHSM reads its configuration when it is initialised, and python-pkcs11 keeps the module
    loaded for the process. The tests in tests/pki share one SoftHSM directory for the session
    (their conftest's `softhsm` fixture, which is not visible from this directory); this test
    uses a directory of its own and finalises the module before and after, so that each of them
    finds its own tokens whatever order they run in.
    """
    import pkcs11

    pkcs11.lib(os.path.realpath(module)).finalize()


@pytest.fixture
def softhsm_cards(
    settings: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SoftHsm]:
    """Cards as SoftHSM2 tokens (EKORT_CARD_READER = "pkcs11"), in a token directory of this
    test's own."""
    tools.require(tools.SOFTHSM, tools.PKCS11_TOOL)
    root = tmp_path_factory.mktemp("softhsm-cards")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    _finalise_softhsm(SOFTHSM_MODULE)
    settings.EKORT_CARD_READER = "pkcs11"
    settings.EKORT_PKCS11_MODULE = SOFTHSM_MODULE
    backends.reset()
    try:
        yield SoftHsm(SOFTHSM_MODULE, {**os.environ, "SOFTHSM2_CONF": str(conf)})
    finally:
        backends.reset()
        _finalise_softhsm(SOFTHSM_MODULE)


def test_a_produced_card_is_a_pkcs11_token_that_pkcs11_tool_reads(
    softhsm_cards: SoftHsm, region: Region
) -> None:
    r = region
    card = sent_home(r)
    auth = record(card, "auth")
    assert card.number is not None

    def pkcs11_tool(*options: str) -> Ran:
        return run(
            *("pkcs11-tool", "--module", softhsm_cards.module, "--token-label", card.number),
            *options,
            cwd=r.dir,
            env=softhsm_cards.env,
        )

    listed = pkcs11_tool("--list-objects")
    assert "Certificate Object; type = X.509 cert" in listed.out, listed
    certificate = listed.out.split("Certificate Object; type = X.509 cert", 1)[1]
    assert "label:      auth" in certificate, listed
    assert "Private Key Object" not in listed.out, listed  # no login, no private objects

    pkcs11_tool(
        *("--read-object", "--type", "cert", "--label", "auth"),
        *("--output-file", "token-auth.der"),
    )
    der = (r.dir / "token-auth.der").read_bytes()
    assert x509.load_der_x509_certificate(der) == x509.load_der_x509_certificate(bytes(auth.der))
    assert der == bytes(auth.der)

    # What the token holds is what openssl chains to the root, and what the responder knows.
    parsed = r.openssl("x509", "-inform", "DER", "-in", "token-auth.der", "-out", "token-auth.pem")
    assert parsed.returncode == 0
    chained = r.verify_chain("token-auth.pem")
    assert "token-auth.pem: OK" in chained.out, chained
    assert not OcspResponse.objects.filter(issuer=r.ca, serial=auth.serial).exists()  # on demand
    held = r.ask_ocsp("token-auth.pem", aia_url(der))
    assert "token-auth.pem: revoked" in held.out, held
    assert "Reason: certificateHold" in held.out, held
    assert certificate_of(r.ca).subject == x509.load_der_x509_certificate(der).issuer


# A PDF signed with the card's signature key by another program, through PKCS#11 alone (as
# pyHanko signs with any PKCS#11 token): argv = module, token label, code, ca chain, in, out.
_SIGN_PDF = """
import sys
from asn1crypto import pem, x509
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import pkcs11, signers

module, label, code, chain, source, target = sys.argv[1:]
with open(chain, "rb") as f:
    ca_chain = [x509.Certificate.load(der) for _, _, der in pem.unarmor(f.read(), True)]
session = pkcs11.open_pkcs11_session(
    module, token_criteria=TokenCriteria(label=label), user_pin=code
)
signer = pkcs11.PKCS11Signer(
    session,
    cert_label="signature",
    key_label="signature",
    ca_chain=ca_chain,
    use_raw_mechanism=True,  # SoftHSM has no CKM_ECDSA_SHA256: hash here, sign the digest
)
with open(source, "rb") as f:
    signed = signers.sign_pdf(
        IncrementalPdfFileWriter(f),
        signers.PdfSignatureMetadata(field_name="Signature"),
        signer=signer,
    )
with open(target, "wb") as out:
    out.write(signed.getvalue())
"""


def test_a_pdf_signed_through_pkcs11_needs_the_signature_code_and_validates_with_ocsp(
    softhsm_cards: SoftHsm, region: Region
) -> None:
    """R12 on a PKCS#11 card: another program signs a PDF with the signature key after the
    signature code, and not after the card PIN; the signature validates up to the root, the
    signer's certificate checked by OCSP at the responder its AIA names, the issuing CA on the
    root's CRL."""
    tools.require(tools.PYHANKO)
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from reportlab.pdfgen import canvas

    r = region
    card = activate(r, sent_home(r))
    assert card.number is not None
    record = holder_certificates.download_signature_certificate(
        actor=r.world.holder, card_id=card.pk, pin=PIN, signature_code=SIGNATURE_CODE, now=now()
    )
    r.served(record)
    build_crl(r.hierarchy.root, now())
    pdf = canvas.Canvas(str(r.dir / "prescription.pdf"))
    pdf.drawString(72, 720, "Recept: 1 x Alvedon 500 mg")
    pdf.save()

    def sign(label: str, code: str) -> Ran:
        return run(
            *(sys.executable, "-c", _SIGN_PDF, softhsm_cards.module, label, code),
            *("chain.pem", "prescription.pdf", "signed.pdf"),
            cwd=r.dir,
            env=softhsm_cards.env,
            ok=False,
        )

    signature_token = f"PIN2 {card.number}"
    # The card PIN opens the card's own token, which has no signature key; and it is not the
    # signature token's PIN.
    for label, code, why in (
        (card.number, PIN, "Could not find certificate with label 'signature'"),
        (signature_token, PIN, "PinIncorrect"),
    ):
        refused = sign(label, code)
        assert refused.returncode != 0, refused
        assert why in refused.out, refused
        assert not (r.dir / "signed.pdf").exists(), refused
    signed = sign(signature_token, SIGNATURE_CODE)
    assert signed.returncode == 0, signed

    root = asn1_x509.Certificate.load(bytes(r.hierarchy.root.certificate_der))
    context = ValidationContext(
        trust_roots=[root],
        allow_fetching=True,
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.OCSP_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
            )
        ),
    )
    with (r.dir / "signed.pdf").open("rb") as f:
        [embedded] = PdfFileReader(f).embedded_signatures
        status = validate_pdf_signature(embedded, context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.dump() == bytes(record.der)
    assert status.revocation_details is None or not status.revocation_details.revoked
