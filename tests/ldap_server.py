"""A real OpenLDAP server for the tests: Debian's slapd, started with a temporary slapd.conf
on a free port on 127.0.0.1, its data in a temporary directory, killed afterwards.

The schema is core, cosine and inetorgperson from /etc/ldap/schema, and the people register's
local HSA schema (docs/ldap/ekort-hsa.schema). Without slapd a test skips on a workstation and
fails in CI (CI=true), whose `.ci/run` installs it (tests/tools.py).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import tools

SLAPD, INETORGPERSON = tools.SLAPD.files
SYSTEM_SCHEMA = INETORGPERSON.parent
MODULES = Path("/usr/lib/ldap")
LOCAL_SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "ldap" / "ekort-hsa.schema"
BASE = "l=Region Gavleborg,c=SE"
ADMIN = f"cn=admin,{BASE}"
PASSWORD = "admin-secret-for-tests"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Slapd:
    url: str
    base: str
    admin: str
    password: str
    process: subprocess.Popen[bytes]

    def connection(self):  # type: ignore[no-untyped-def]
        from ldap3 import Connection, Server

        return Connection(Server(self.url), user=self.admin, password=self.password, auto_bind=True)

    def add(self, entries: Sequence[tuple[str, Sequence[str], Mapping[str, object]]]) -> None:
        """Add (dn, object classes, attributes) entries, parents first."""
        with self.connection() as conn:
            for dn, classes, attributes in entries:
                if not conn.add(dn, list(classes), dict(attributes)):
                    raise AssertionError(f"adding {dn}: {conn.result}")

    def modify(self, dn: str, changes: Mapping[str, object]) -> None:
        from ldap3 import MODIFY_DELETE, MODIFY_REPLACE

        with self.connection() as conn:
            operations = {
                name: [(MODIFY_DELETE, [])] if value is None else [(MODIFY_REPLACE, [value])]
                for name, value in changes.items()
            }
            if not conn.modify(dn, operations):
                raise AssertionError(f"modifying {dn}: {conn.result}")

    def delete(self, dn: str) -> None:
        with self.connection() as conn:
            if not conn.delete(dn):
                raise AssertionError(f"deleting {dn}: {conn.result}")


def _config(directory: Path) -> Path:
    data = directory / "data"
    data.mkdir(parents=True)
    schemas = [SYSTEM_SCHEMA / f"{name}.schema" for name in ("core", "cosine", "inetorgperson")]
    lines = [
        *(f"include {schema}" for schema in [*schemas, LOCAL_SCHEMA]),
        f"pidfile {directory / 'slapd.pid'}",
        f"modulepath {MODULES}",
        "moduleload back_mdb",
        "database mdb",
        f'suffix "{BASE}"',
        f'rootdn "{ADMIN}"',
        f"rootpw {PASSWORD}",
        f"directory {data}",
        "maxsize 104857600",
        # Anyone may read but the identity numbers, which only the bound reader may.
        'access to attrs=personalIdentityNumber by dn.exact="' + ADMIN + '" read by * none',
        "access to * by * read",
    ]
    config = directory / "slapd.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _wait_until_it_answers(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"slapd stopped at start: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("slapd did not answer within 15 s")


def started(directory: Path) -> Iterator[Slapd]:
    """slapd in the foreground (-d 0, so that it stays our child), until the generator is
    closed; then it is stopped and, if need be, killed."""
    tools.require(tools.SLAPD)
    config = _config(directory)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = directory / "slapd.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(SLAPD), "-f", str(config), "-h", f"{url}/", "-d", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_it_answers(port, process, log)
        server = Slapd(url, BASE, ADMIN, PASSWORD, process)
        server.add([(BASE, ["locality"], {"l": "Region Gavleborg"})])
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
