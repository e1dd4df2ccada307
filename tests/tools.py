"""The programs outside ekort that some tests drive, and the one rule for a missing one.

A test that needs a program asks here: `require(TOOL)` in a fixture or the test, or the mark
`needs(TOOL)` on a module, class or test (`pytestmark = [needs(OPENSSL)]`), which
tests/conftest.py checks before the test's fixtures are set up. Without the program the test
is skipped on a workstation, saying what is missing and how to install it, and fails in CI
(CI=true): `.ci/run` installs every one of them, so a green CI run never leaves tests out
because an install step went missing. tests/unit/test_tools.py holds every test to asking
here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

MARK = "needs_tools"
BIN = Path(sys.executable).parent  # the virtual environment's programs (the dev extra's)


@dataclass(frozen=True)
class Tool:
    """A program, with everything it is made of that a test relies on."""

    name: str
    install: str  # how to install it
    commands: tuple[str, ...] = ()  # found on PATH
    files: tuple[Path, ...] = ()
    modules: tuple[str, ...] = ()  # Python modules

    def missing(self) -> str | None:
        """The first part of it that is not there, or None."""
        for command in self.commands:
            if shutil.which(command) is None:
                return command
        for file in self.files:
            if not file.exists():
                return str(file)
        for module in self.modules:
            if importlib.util.find_spec(module) is None:
                return f"Python's {module}"
        return None


OPENSSL = Tool("OpenSSL's command line", "apt-get install openssl", commands=("openssl",))
SOFTHSM = Tool(
    "SoftHSM2",
    "apt-get install softhsm2",
    commands=("softhsm2-util",),
    files=(Path("/usr/lib/softhsm/libsofthsm2.so"),),
)
PKCS11_TOOL = Tool("OpenSC's pkcs11-tool", "apt-get install opensc", commands=("pkcs11-tool",))
PDFTOTEXT = Tool("pdftotext", "apt-get install poppler-utils", commands=("pdftotext",))
CHROMIUM = Tool("Chromium", "apt-get install chromium", files=(Path("/usr/bin/chromium"),))
XGETTEXT = Tool("xgettext", "apt-get install gettext", commands=("xgettext",))
STRACE = Tool("strace", "apt-get install strace", commands=("strace",))
SLAPD = Tool(
    "OpenLDAP's slapd",
    "apt-get install slapd ldap-utils",
    files=(Path("/usr/sbin/slapd"), Path("/etc/ldap/schema/inetorgperson.schema")),
)
PKILINT = Tool(
    "pkilint",
    "pip install -e '.[dev]'",
    files=tuple(BIN / name for name in ("lint_pkix_cert", "lint_crl", "lint_ocsp_response")),
)
PYHANKO = Tool("pyHanko", "pip install -e '.[dev]'", modules=("pyhanko",))
EKORT_SCRIPT = Tool("The ekort console script", "pip install -e .", files=(BIN / "ekort",))


def unavailable(reason: str) -> NoReturn:
    """Skip the test on a workstation; fail it in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{reason} CI installs every program the tests need (.ci/run): a CI run must not "
            "leave these tests out.",
            pytrace=False,
        )
    pytest.skip(reason)


def require(*tools: Tool) -> None:
    """Go on only if every one of `tools` is installed (see the module's text)."""
    for tool in tools:
        missing = tool.missing()
        if missing is not None:
            unavailable(f"{tool.name} is not installed ({missing} is missing; {tool.install}).")


def needs(*tools: Tool) -> pytest.MarkDecorator:
    """The mark of a module, class or test that needs `tools`."""
    return getattr(pytest.mark, MARK)(*tools)


def require_marked(item: pytest.Item) -> None:
    """Every tool the marks on `item` name (tests/conftest.py, before each test)."""
    for mark in item.iter_markers(MARK):
        require(*mark.args)
