"""The production stack of deploy/ on this machine, for tests/deploy/ and `make prod-check`:
Debian's nginx with deploy/nginx/ekort.conf as it ships, only its ports and paths moved to
127.0.0.1, high free ports and a temporary directory (`render`), run in the foreground by
whoever runs the tests (`nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`), and the server's
TLS certificate made here with `cryptography`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.tools import Tool

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "ekort.conf"
NGINX = Tool("nginx", "apt-get install nginx", files=(Path("/usr/sbin/nginx"),))
CURL = Tool("curl", "apt-get install curl", commands=("curl",))
# Everything `make prod-check` (prod_check.py) drives from the command line.
PROD_STACK = Tool(
    "The production stack's programs",
    "apt-get install nginx curl postgresql-client",
    commands=("curl", "pg_dump", "pg_restore"),
    files=(Path("/usr/sbin/nginx"),),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, *, process: subprocess.Popen[bytes] | None = None, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process for port {port} ended with {process.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@dataclass(frozen=True)
class Ports:
    http: int  # OCSP, CRLs, CA certificates
    https: int  # the portal, with client certificates
    portal: int  # gunicorn (or the test's live server)
    responders: tuple[int, int]


def render(site: str, ports: Ports, directory: Path, static: Path) -> str:
    """deploy/nginx/ekort.conf with its production ports and paths replaced; each replaced
    text must be there, so that the file and this test cannot drift apart."""
    tls = directory / "tls"
    replacements: Mapping[str, str] = {
        "    listen 80;\n": f"    listen 127.0.0.1:{ports.http};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{ports.https} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{ports.portal};",
        "server 127.0.0.1:8081;": f"server 127.0.0.1:{ports.responders[0]};",
        "server 127.0.0.1:8082;": f"server 127.0.0.1:{ports.responders[1]};",
        "/var/cache/nginx/ekort": str(directory / "cache"),
        "/etc/ekort/tls/": f"{tls}/",
        "/var/lib/ekort/static/": f"{static}/",
    }
    for production, here in replacements.items():
        if production not in site:
            raise AssertionError(f"deploy/nginx/ekort.conf no longer has {production.strip()!r}")
        site = site.replace(production, here)
    return site


def top_level(directory: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf holds around the site, in `directory`."""
    temp = directory / "temp"
    return f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/ekort.conf;
}}
"""


def server_tls(tls: Path) -> None:
    """A TLS key and certificate for 127.0.0.1 and localhost, from a CA of the test's own."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    tls.mkdir(parents=True, exist_ok=True)
    (tls / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tls / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tls / "server.key").chmod(0o600)


@dataclass
class Nginx:
    directory: Path
    ports: Ports
    process: subprocess.Popen[bytes]

    @property
    def portal(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    def log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def new_directory() -> Path:
    """A directory for nginx's files. nginx run by root starts its workers as nobody, who must
    reach the temporary files under it."""
    directory = Path(tempfile.mkdtemp(prefix="ekort-nginx-"))
    directory.chmod(0o755)
    return directory


@contextmanager
def nginx(
    directory: Path, ports: Ports, *, client_ca: str, static: Path | None = None
) -> Iterator[Nginx]:
    """nginx with deploy/nginx/ekort.conf in `directory`, verifying cards against
    `client_ca` (PEM: `ekort ca chain`), until the block ends."""
    static = static or directory / "static"
    static.mkdir(exist_ok=True)
    server_tls(directory / "tls")
    (directory / "tls" / "client-ca.pem").write_text(client_ca, encoding="ascii")
    for sub in ("temp", "cache"):
        (directory / sub).mkdir(exist_ok=True)
    (directory / "ekort.conf").write_text(
        render(SITE.read_text(encoding="utf-8"), ports, directory, static), encoding="utf-8"
    )
    conf = directory / "nginx.conf"
    conf.write_text(top_level(directory), encoding="utf-8")
    command = ["/usr/sbin/nginx", "-p", str(directory), "-c", str(conf), "-e", "stderr"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refuses the configuration:\n{check.stderr}")
    process = subprocess.Popen([*command, "-g", "daemon off;"], start_new_session=True)
    try:
        wait_for_port(ports.https, process=process)
        wait_for_port(ports.http, process=process)
        yield Nginx(directory, ports, process)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], *, seconds: float = 10.0) -> None:
    """Stop a process the stack started (and its workers: it leads a session of its own)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=seconds)
