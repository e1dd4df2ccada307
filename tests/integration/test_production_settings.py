"""What production settings refuse: weak secrets (short, few characters, or a development default
published in the source), a key file cost below the production figure, and the virtual card
reader unless the system says it is a test system.

The settings module is run afresh for each environment (runpy: the process's own settings
stay as they are), which takes milliseconds where a new interpreter would take a second."""

from __future__ import annotations

import runpy
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

import ekort.settings

SETTINGS = Path(ekort.settings.__file__)
# The secrets production checks, each with a strong value to start from.
SECRETS = ["DJANGO_SECRET_KEY", "EKORT_AUDIT_KEY", "EKORT_KEY_PASSPHRASE", "EKORT_SECRETS_KEY"]


def strong() -> str:
    return secrets.token_urlsafe(36)  # 48 characters


@pytest.fixture
def environment(monkeypatch, tmp_path) -> dict[str, str]:
    """A production environment that starts: every variable the settings read is ours."""
    import os

    for name in list(os.environ):
        if name.startswith(("EKORT_", "DJANGO_")):
            monkeypatch.delenv(name)
    values = {
        "EKORT_ENV": "production",
        "EKORT_DATA_DIR": str(tmp_path),
        "DJANGO_ALLOWED_HOSTS": "ekort.region.example",
        "EKORT_CARD_READER": "pkcs11",
        "EKORT_PKCS11_PIN": "493817",
        **{name: strong() for name in SECRETS},
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def load(monkeypatch, **changes: str | None) -> dict[str, Any]:
    for name, value in changes.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def refused(monkeypatch, **changes: str | None) -> str:
    with pytest.raises(ImproperlyConfigured) as raised:
        load(monkeypatch, **changes)
    return str(raised.value)


def test_a_strong_production_environment_starts(environment, monkeypatch):
    loaded = load(monkeypatch)
    assert loaded["PRODUCTION"] is True
    assert loaded["EKORT_AUDIT_KEY"] == environment["EKORT_AUDIT_KEY"]
    assert loaded["EKORT_KEY_KDF_ROUNDS"] == 600_000


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize(
    ("weak", "why"),
    [
        ("x", "at least 32 bytes"),
        ("k" * 31, "at least 32 bytes"),
        ("Ab1-" * 10, "too few different characters"),
    ],
    ids=["one-byte", "31-bytes", "repetitive"],
)
def test_a_weak_secret_is_refused_by_name(environment, monkeypatch, name, weak, why):
    message = refused(monkeypatch, **{name: weak})
    assert name in message and why in message
    assert weak not in message  # the message never repeats the secret


@pytest.mark.parametrize("name", SECRETS)
def test_every_development_default_is_refused_for_every_secret(environment, monkeypatch, name):
    defaults = ekort.settings.DEVELOPMENT_SECRETS
    assert set(SECRETS) <= set(defaults)
    for default in set(defaults.values()):
        message = refused(monkeypatch, **{name: default})
        assert name in message and "development default" in message


def test_the_example_environments_placeholders_are_refused(environment, monkeypatch):
    """deploy/ekort.env.example is public too: a copy whose placeholders were never replaced
    must not start production with secrets anyone can read."""
    example = SETTINGS.parents[2] / "deploy" / "ekort.env.example"
    assigned = dict(
        line.split("=", 1)
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    placeholders = {name: assigned[name] for name in SECRETS if assigned.get(name)}
    assert placeholders, "the example sets no secret in clear any more: drop this test"
    for name, placeholder in placeholders.items():
        for secret in SECRETS:
            message = refused(monkeypatch, **{secret: placeholder})
            assert secret in message and "published in ekort's source" in message, (name, secret)
            load(monkeypatch, **{secret: strong()})


def test_thirty_two_bytes_are_enough(environment, monkeypatch):
    exactly = secrets.token_hex(16)
    assert len(exactly.encode()) == 32
    assert load(monkeypatch, EKORT_AUDIT_KEY=exactly)["EKORT_AUDIT_KEY"] == exactly


def test_a_secret_from_a_file_is_checked_too(environment, monkeypatch, tmp_path):
    short = tmp_path / "secrets-key"
    short.write_text("kort\n", encoding="utf-8")
    message = refused(monkeypatch, EKORT_SECRETS_KEY=None, EKORT_SECRETS_KEY_FILE=str(short))
    assert "EKORT_SECRETS_KEY" in message and "at least 32 bytes" in message


def test_the_passphrase_is_not_needed_with_keys_on_a_token(environment, monkeypatch):
    loaded = load(monkeypatch, EKORT_KEY_BACKEND="pkcs11", EKORT_KEY_PASSPHRASE=None)
    assert loaded["EKORT_KEY_BACKEND"] == "pkcs11"


def test_the_development_token_pin_is_refused(environment, monkeypatch):
    message = refused(monkeypatch, EKORT_PKCS11_PIN="1234")
    assert "EKORT_PKCS11_PIN" in message and "development default" in message


def test_a_cheaper_key_file_cost_is_refused(environment, monkeypatch):
    message = refused(monkeypatch, EKORT_KEY_KDF_ROUNDS="2048")
    assert "EKORT_KEY_KDF_ROUNDS" in message and "600,000" in message
    assert load(monkeypatch, EKORT_KEY_KDF_ROUNDS="1000000")["EKORT_KEY_KDF_ROUNDS"] == 1_000_000


def test_development_keeps_its_defaults(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith(("EKORT_", "DJANGO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EKORT_DATA_DIR", str(tmp_path))
    loaded = runpy.run_path(str(SETTINGS))
    assert loaded["PRODUCTION"] is False
    assert loaded["EKORT_CARD_READER"] == "virtual"
    assert loaded["SECRET_KEY"] == loaded["DEVELOPMENT_SECRETS"]["DJANGO_SECRET_KEY"]


# --- point 8: the virtual card reader --------------------------------------------------------


def test_production_refuses_the_virtual_card_reader(environment, monkeypatch):
    message = refused(monkeypatch, EKORT_CARD_READER="virtual")
    assert "EKORT_CARD_READER" in message and "EKORT_TEST_SYSTEM" in message
    # Not choosing a reader is choosing the virtual one.
    assert "EKORT_CARD_READER" in refused(monkeypatch, EKORT_CARD_READER=None)


def test_a_test_system_may_use_the_virtual_card_reader(environment, monkeypatch):
    loaded = load(monkeypatch, EKORT_CARD_READER="virtual", EKORT_TEST_SYSTEM="1")
    assert loaded["EKORT_CARD_READER"] == "virtual" and loaded["EKORT_TEST_SYSTEM"] is True


def test_an_unknown_card_reader_is_refused_everywhere(environment, monkeypatch):
    message = refused(monkeypatch, EKORT_CARD_READER="pkcs-11")
    assert "EKORT_CARD_READER" in message
    message = refused(monkeypatch, EKORT_ENV="development", EKORT_CARD_READER="pkcs-11")
    assert "EKORT_CARD_READER" in message


def test_the_card_reader_itself_refuses_to_be_virtual_in_production(settings):
    """Settings refuse the combination at start; the reader refuses it again when asked for,
    whatever changed the settings since."""
    from ekort.services.ca import backends

    settings.PRODUCTION = True
    settings.EKORT_CARD_READER = "virtual"
    settings.EKORT_TEST_SYSTEM = False
    backends.reset()
    with pytest.raises(ImproperlyConfigured, match="EKORT_TEST_SYSTEM"):
        backends.card_reader()
    settings.EKORT_TEST_SYSTEM = True
    backends.reset()
    assert type(backends.card_reader()).__name__ == "VirtualCardReader"


@pytest.mark.parametrize("domain", ["region se", "regiongavleborg.se.", "-ad.region.se", "ä@b"])
def test_a_upn_domain_that_is_no_dns_domain_is_refused_everywhere(environment, monkeypatch, domain):
    """Refused when ekort starts, naming the variable, not at the first card produced."""
    for env in ("production", "development"):
        message = refused(monkeypatch, EKORT_ENV=env, EKORT_CA_UPN_DOMAIN=domain)
        assert "EKORT_CA_UPN_DOMAIN" in message and "DNS domain" in message


@pytest.mark.parametrize("domain", ["ad.regiongavleborg.example", ""])
def test_a_upn_domain_or_none_is_taken(environment, monkeypatch, domain):
    loaded = load(monkeypatch, EKORT_CA_UPN_DOMAIN=domain)
    assert loaded["EKORT_CA"]["upn_domain"] == domain
