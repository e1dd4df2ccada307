"""Django settings for ekort.

Everything that differs between a laptop and production comes from the environment:
- DATABASE_URL: PostgreSQL in production (postgres://...); without it, SQLite in var/.
- EKORT_ENV: "development" (default) or "production". Production requires strong secrets
  (DJANGO_SECRET_KEY, EKORT_AUDIT_KEY and the others; see "What production refuses" at the
  end), turns DEBUG off and refuses simulated time and the virtual card reader.
- EKORT_SIMULATED_NOW: run at a simulated instant (development and test only).
- EKORT_POLICY_CALENDAR: path to another region's policy calendar (TOML).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ekort.logs import logging_config
from ekort.pki.certificates import check_upn_domain

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("EKORT_DATA_DIR", PROJECT_DIR / "var"))

EKORT_ENV = os.environ.get("EKORT_ENV", "development")
if EKORT_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"EKORT_ENV must be development, test or production, not {EKORT_ENV!r}."
    )
PRODUCTION = EKORT_ENV == "production"

# The secrets' development defaults. They are in the public source, so production refuses each
# of them wherever it turns up, as it refuses any secret shorter than MIN_SECRET_BYTES (below).
_DEV_SECRET = "ekort-development-only-secret-key-not-for-production"  # noqa: S105
DEVELOPMENT_SECRETS = {
    "DJANGO_SECRET_KEY": _DEV_SECRET,
    "EKORT_AUDIT_KEY": _DEV_SECRET,
    "EKORT_KEY_PASSPHRASE": "ekort-development-key-passphrase",
    "EKORT_SECRETS_KEY": "ekort-development-secrets-key",
    "EKORT_PKCS11_PIN": "1234",
}
# The placeholders of deploy/ekort.env.example: public as well, and refused the same way, so
# that a copy of the example nobody filled in does not start production.
PUBLISHED_PLACEHOLDERS = frozenset({"replace-with-48-random-bytes-in-url-safe-base64"})
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
# Keys the audit chain (HMAC): whoever edits the database cannot forge entries without it.
EKORT_AUDIT_KEY = os.environ.get("EKORT_AUDIT_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (not SECRET_KEY or not EKORT_AUDIT_KEY):
    raise ImproperlyConfigured(
        "Production needs DJANGO_SECRET_KEY and EKORT_AUDIT_KEY set in the environment."
    )

EKORT_SIMULATED_NOW = os.environ.get("EKORT_SIMULATED_NOW", "").strip()
if PRODUCTION and EKORT_SIMULATED_NOW:
    raise ImproperlyConfigured(
        "EKORT_SIMULATED_NOW is set but EKORT_ENV is production: simulated time is refused in "
        "production. Unset EKORT_SIMULATED_NOW."
    )
EKORT_POLICY_CALENDAR = os.environ.get("EKORT_POLICY_CALENDAR", "").strip()

DEBUG = not PRODUCTION and os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = (
    os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    if PRODUCTION
    else ["127.0.0.1", "localhost", "testserver"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ekort.store",
    "ekort.cli",
    "ekort.web",
    "axes",
]

MIDDLEWARE = [
    # A request id for the logs and X-Request-ID, then the request's count and latency.
    "ekort.web.observe.RequestIdMiddleware",
    "ekort.web.observe.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, Permissions-Policy, and no-store for signed-in pages and the API.
    "ekort.web.headers.SecurityHeadersMiddleware",
    # /health/, /ready/ and /metrics, before sessions and the Host check (ekort.web.observe).
    "ekort.web.observe.ProbesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Signs out a session past its time before any view sees it.
    "ekort.web.sessions.SessionLimitMiddleware",
    # A session signed in with the card: the same certificate on every request, still valid,
    # and only the roles its assurance level gives (ekort.web.card_sign_in, E16).
    "ekort.web.card_sign_in.CardSessionMiddleware",
    # Last, so that it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ekort.urls"
WSGI_APPLICATION = "ekort.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ekort.web.context.clock_context",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "ekort.sqlite3"),
        "OPTIONS": {
            # Take the write lock when a transaction starts, so that two writers queue up
            # instead of failing halfway ("database is locked") when one upgrades its lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file (not memory), so that threaded tests see real SQLite locking; one per process,
        # so that two test runs on one machine do not delete each other's database.
        "TEST": {"NAME": str(DATA_DIR / f"test-ekort-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database()}
# The OCSP responder only reads: from a streaming replica of the database when
# EKORT_OCSP_DATABASE_URL names one (docs/operations.md, "OCSP from a read replica"), else from
# the database itself. A replica that does not answer within 2 s counts as down; the responder
# answers from memory meanwhile.
EKORT_OCSP_DATABASE = "default"
if _ocsp_url := os.environ.get("EKORT_OCSP_DATABASE_URL", "").strip():
    DATABASES["ocsp"] = dict(dj_database_url.parse(_ocsp_url, conn_max_age=60))
    if "postgresql" in str(DATABASES["ocsp"]["ENGINE"]):
        DATABASES["ocsp"]["OPTIONS"] = {"connect_timeout": 2}
    EKORT_OCSP_DATABASE = "ocsp"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
# Swedish is the source language: templates and code are written in Swedish and the English
# catalogue (locale/en) translates them. The choice is kept in a cookie by Django's
# set_language view (the switch in the page header).
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
LOGIN_URL = "/logga-in/"

# The API takes a card photo as base64 in a JSON body (api.schemas.PhotoIn): up to 5 MiB of
# JPEG or PNG (services.cards.production.MAX_PHOTO_BYTES) grows by 4/3 to 6,990,508 characters,
# above Django's default of 2.5 MB. Room for that and the rest of the JSON, no more: a larger
# body is refused with 413 before it is parsed. The portal uploads photos as files, which this
# limit does not count. tests/integration/test_api_photo_size.py keeps the numbers in step.
DATA_UPLOAD_MAX_MEMORY_SIZE = (5 * 1024 * 1024 + 2) // 3 * 4 + 64 * 1024

# Failed sign-ins (django-axes, ekort.web.signin): after 5 failures an account is locked for
# 15 minutes, from whatever address; an address with EKORT_SIGN_IN_ADDRESS_LIMIT failures
# across any accounts within 15 minutes is stopped until they are 15 minutes old. A
# successful sign-in clears the account's count.
AUTHENTICATION_BACKENDS = [
    "ekort.web.signin.SignInRateLimit",
    # Passwords; in production only for accounts without a staff role, unless
    # EKORT_STAFF_PASSWORD_SIGN_IN=1 (below).
    "ekort.web.card_sign_in.PasswordBackend",
    # Sessions signed in with the card (E16); it authenticates no password.
    "ekort.web.card_sign_in.CardCertificateBackend",
]
AXES_HANDLER = "ekort.web.signin.AccountAndAddressLockout"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "ekort/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "ekort.web.signin.client_address"
EKORT_SIGN_IN_ADDRESS_LIMIT = int(os.environ.get("EKORT_SIGN_IN_ADDRESS_LIMIT", "20"))
# Axes warns when its lockout leaves the address out; the handler above counts the address
# itself, with a limit of its own.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]


# How long a signed-in session lasts (ekort.web.sessions): at most *_SESSION_HOURS after
# signing in, and *_SESSION_IDLE_MINUTES between two requests. Any staff role gets the staff
# limits; an account that only holds cards gets the holder limits, which may be no longer.
def _duration(name: str, unit: str, default: str) -> timedelta:
    return timedelta(**{unit: float(os.environ.get(name, default))})


EKORT_STAFF_SESSION_MAX = _duration("EKORT_STAFF_SESSION_HOURS", "hours", "12")
EKORT_STAFF_SESSION_IDLE = _duration("EKORT_STAFF_SESSION_IDLE_MINUTES", "minutes", "30")
EKORT_HOLDER_SESSION_MAX = _duration("EKORT_HOLDER_SESSION_HOURS", "hours", "1")
EKORT_HOLDER_SESSION_IDLE = _duration("EKORT_HOLDER_SESSION_IDLE_MINUTES", "minutes", "15")
if (
    EKORT_HOLDER_SESSION_MAX > EKORT_STAFF_SESSION_MAX
    or EKORT_HOLDER_SESSION_IDLE > EKORT_STAFF_SESSION_IDLE
):
    raise ImproperlyConfigured(
        "A holder's session may last no longer than a staff session: set "
        "EKORT_HOLDER_SESSION_HOURS and EKORT_HOLDER_SESSION_IDLE_MINUTES no higher than "
        "EKORT_STAFF_SESSION_HOURS and EKORT_STAFF_SESSION_IDLE_MINUTES."
    )
# Django's own expiry of the cookie and the stored session, behind the limits above.
SESSION_COOKIE_AGE = int(EKORT_STAFF_SESSION_MAX.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"  # Django's default, kept on purpose: no URL leaves ekort
# Production is served over HTTPS only; behind a TLS-terminating proxy set EKORT_BEHIND_PROXY=1.
SECURE_SSL_REDIRECT = PRODUCTION and os.environ.get("EKORT_SSL_REDIRECT", "1") == "1"
# Probes on 127.0.0.1 (ekort.web.observe) speak plain HTTP to the application server.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
# CRLs and CA certificates stay on plain HTTP, where the certificates' CDP and AIA point and
# relying parties fetch them (deploy/nginx/ekort.conf, port 80).
SECURE_REDIRECT_EXEMPT += [r"^pki/"]
SECURE_HSTS_SECONDS = int(os.environ.get("EKORT_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
# Behind it, sign-in throttling takes the client's address from X-Forwarded-For (the entry the
# proxy appended), since every request comes from the proxy's own address.
EKORT_BEHIND_PROXY = os.environ.get("EKORT_BEHIND_PROXY") == "1"
if EKORT_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs (ekort.logs, docs/operations.md "Logs"): JSON lines with the request's id in production,
# text in development unless EKORT_LOG_FORMAT says otherwise; every server error is logged with
# its traceback (django.request), to standard error.
EKORT_LOG_FORMAT = os.environ.get("EKORT_LOG_FORMAT", "json" if PRODUCTION else "text").lower()
if EKORT_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"EKORT_LOG_FORMAT must be json or text, not {EKORT_LOG_FORMAT!r}.")
LOGGING = logging_config(json_lines=EKORT_LOG_FORMAT == "json")
# The proxy whose X-Request-ID is believed (ekort.web.observe): its address as the server sees
# it. Any other client's X-Request-ID is replaced by an id of ekort's own.
EKORT_TRUSTED_PROXIES = frozenset(
    a.strip()
    for a in os.environ.get("EKORT_TRUSTED_PROXIES", "127.0.0.1,::1").split(",")
    if a.strip()
)
# Who may read /metrics (Prometheus): these client addresses, and never a request that came
# through the proxy (one with X-Forwarded-For), which is the outside world.
EKORT_METRICS_ADDRESSES = frozenset(
    a.strip()
    for a in os.environ.get("EKORT_METRICS_ADDRESSES", "127.0.0.1,::1").split(",")
    if a.strip()
)
# Signing in with the card (ekort.web.card_sign_in, docs/operations.md): the addresses of the
# TLS-terminating proxy, as this server sees them, whose X-SSL-Client-Cert and
# X-SSL-Client-Verify headers are believed. From any other address they are ignored; empty
# (the default) turns card sign-in off.
EKORT_CLIENT_CERT_PROXIES = frozenset(
    a.strip() for a in os.environ.get("EKORT_CLIENT_CERT_PROXIES", "").split(",") if a.strip()
)
# Password sign-in for accounts with a staff role: on in development and the demo; off in
# production, where staff sign in with the card, unless EKORT_STAFF_PASSWORD_SIGN_IN=1 (what that
# costs: docs/operations.md). Holders keep their passwords either way.
EKORT_STAFF_PASSWORD_SIGN_IN = (
    os.environ.get("EKORT_STAFF_PASSWORD_SIGN_IN", "0" if PRODUCTION else "1") == "1"
)
EKORT_CARD_NUMBER_PREFIX = os.environ.get("EKORT_CARD_NUMBER_PREFIX", "975221")
# How many days an API token works when its issuer says nothing else (at most 366).
EKORT_API_TOKEN_DAYS = int(os.environ.get("EKORT_API_TOKEN_DAYS", "90"))
if not 1 <= EKORT_API_TOKEN_DAYS <= 366:
    raise ImproperlyConfigured("EKORT_API_TOKEN_DAYS must be 1-366 days.")


def _secret(name: str, development_default: str, *, needed: bool = True) -> str:
    """A secret from NAME, or from the file named by NAME_FILE; required in production when
    `needed` (a PKCS#11 PIN is not needed with encrypted key files, and the other way round)."""
    value = os.environ.get(name, "").strip()
    path = os.environ.get(f"{name}_FILE", "").strip()
    if not value and path:
        value = Path(path).read_text(encoding="utf-8").strip()
    if not value and PRODUCTION and needed:
        raise ImproperlyConfigured(f"Production needs {name} (or {name}_FILE) to be set.")
    return value or development_default


# --- PKI: keys, the certificate authority and revocation status (docs/pki.md) ---
EKORT_KEY_BACKEND = os.environ.get("EKORT_KEY_BACKEND", "encrypted")  # or "pkcs11"
EKORT_KEY_DIR = Path(os.environ.get("EKORT_KEY_DIR", DATA_DIR / "keys"))
EKORT_KEY_PASSPHRASE = _secret(
    "EKORT_KEY_PASSPHRASE",
    DEVELOPMENT_SECRETS["EKORT_KEY_PASSPHRASE"],
    needed=EKORT_KEY_BACKEND == "encrypted",
)
# PBKDF2-HMAC-SHA256 iterations for a new encrypted key file: OWASP's figure (Password Storage
# Cheat Sheet) is 600,000, which production may raise but not lower. Tests lower it for speed.
KEY_FILE_KDF_ROUNDS = 600_000
EKORT_KEY_KDF_ROUNDS = int(os.environ.get("EKORT_KEY_KDF_ROUNDS", str(KEY_FILE_KDF_ROUNDS)))
EKORT_PKCS11_MODULE = os.environ.get("EKORT_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
EKORT_PKCS11_TOKEN = os.environ.get("EKORT_PKCS11_TOKEN", "ekort-ca")
# "pkcs11" (the cards' chips) or "virtual": chips simulated in a file that holds their private
# keys in clear, for the demo and tests. Production refuses the virtual reader unless
# EKORT_TEST_SYSTEM=1 says the system is a test system, with no real holder's card.
EKORT_CARD_READER = os.environ.get("EKORT_CARD_READER", "virtual")
if EKORT_CARD_READER not in {"virtual", "pkcs11"}:
    raise ImproperlyConfigured(
        f"EKORT_CARD_READER must be pkcs11 or virtual, not {EKORT_CARD_READER[:40]!r}."
    )
EKORT_TEST_SYSTEM = os.environ.get("EKORT_TEST_SYSTEM", "") == "1"
EKORT_PKCS11_PIN = _secret(
    "EKORT_PKCS11_PIN",
    DEVELOPMENT_SECRETS["EKORT_PKCS11_PIN"],
    needed="pkcs11" in (EKORT_KEY_BACKEND, EKORT_CARD_READER),
)
# Encrypts the cards' administrative secrets (the PUK) in the database.
EKORT_SECRETS_KEY = _secret("EKORT_SECRETS_KEY", DEVELOPMENT_SECRETS["EKORT_SECRETS_KEY"])
# Where relying parties fetch CRLs and CA certificates, and ask OCSP (written into certificates).
EKORT_PUBLIC_URL = os.environ.get("EKORT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
EKORT_OCSP_URL = os.environ.get("EKORT_OCSP_URL", "http://127.0.0.1:8080").rstrip("/")
# Virtual cards (the demo's and tests' stand-in for physical chips) keep their state here.
EKORT_VIRTUAL_CARD_DIR = Path(os.environ.get("EKORT_VIRTUAL_CARD_DIR", DATA_DIR / "cards"))


def _upn_domain() -> str:
    """EKORT_CA_UPN_DOMAIN, checked when ekort starts rather than at the first card produced."""
    try:
        return check_upn_domain(os.environ.get("EKORT_CA_UPN_DOMAIN", "regiongavleborg.se"))
    except ValueError as error:
        raise ImproperlyConfigured(f"EKORT_CA_UPN_DOMAIN: {error}") from None


EKORT_CA = {
    "region": os.environ.get("EKORT_CA_REGION", "Region Gävleborg"),
    "organisation_number": os.environ.get("EKORT_CA_ORGANISATION_NUMBER", "2321000198"),
    "root_name": os.environ.get("EKORT_CA_ROOT_NAME", "ekort e-id Root CA v1"),
    "issuing_names": {
        "3": os.environ.get("EKORT_CA_LOA3_NAME", "ekort e-id Person ID 3 CA v1"),
        "2": os.environ.get("EKORT_CA_LOA2_NAME", "ekort e-id Person ID 2 CA v1"),
    },
    "root_algorithm": os.environ.get("EKORT_CA_ROOT_ALGORITHM", "ec-p384"),
    "issuing_algorithm": os.environ.get("EKORT_CA_ISSUING_ALGORITHM", "ec-p256"),
    "root_validity_years": int(os.environ.get("EKORT_CA_ROOT_YEARS", "20")),
    "issuing_validity_years": int(os.environ.get("EKORT_CA_ISSUING_YEARS", "10")),
    "ocsp_validity_days": int(os.environ.get("EKORT_CA_OCSP_DAYS", "365")),
    "crl_validity_hours": int(os.environ.get("EKORT_CA_CRL_HOURS", "24")),
    "ocsp_response_validity_hours": int(os.environ.get("EKORT_CA_OCSP_RESPONSE_HOURS", "24")),
    # Windows smart card logon: the authentication certificate's UPN is the holder's HSA-id at
    # this domain (the one the region's Active Directory accepts as a UPN suffix); "" for none.
    "upn_domain": _upn_domain(),
}
EKORT_CARD_KEY_ALGORITHM = os.environ.get("EKORT_CARD_KEY_ALGORITHM", "ec-p256")

# --- What production refuses besides missing secrets and simulated time (docs/operations.md) ---
MIN_SECRET_BYTES = 32
_MIN_DISTINCT_CHARACTERS = 8


def _weakness(value: str) -> str | None:
    """Why `value` is too weak to be a production secret, or None."""
    if value in DEVELOPMENT_SECRETS.values():
        return "it is a development default, published in ekort's source"
    if value in PUBLISHED_PLACEHOLDERS:
        return "it is the placeholder of deploy/ekort.env.example, published in ekort's source"
    size = len(value.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        return f"it is {size} bytes long and production needs at least {MIN_SECRET_BYTES} bytes"
    if len(set(value)) < _MIN_DISTINCT_CHARACTERS:
        return "it repeats too few different characters to be random"
    return None


def _refuse_in_production() -> None:
    checked = {"DJANGO_SECRET_KEY": SECRET_KEY, "EKORT_AUDIT_KEY": EKORT_AUDIT_KEY}
    checked["EKORT_SECRETS_KEY"] = EKORT_SECRETS_KEY
    if EKORT_KEY_BACKEND == "encrypted":
        checked["EKORT_KEY_PASSPHRASE"] = EKORT_KEY_PASSPHRASE
    for name, value in checked.items():
        if why := _weakness(value):
            raise ImproperlyConfigured(
                f"{name} is too weak for production: {why}. Set it to at least "
                f"{MIN_SECRET_BYTES} random bytes, e.g. the output of "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'` "
                "(docs/operations.md says what changing each secret means)."
            )
    # A token's PIN is as long as the token allows, and the token locks after a few wrong
    # tries; the published default is refused all the same.
    needs_pin = "pkcs11" in (EKORT_KEY_BACKEND, EKORT_CARD_READER)
    if needs_pin and EKORT_PKCS11_PIN in DEVELOPMENT_SECRETS.values():
        raise ImproperlyConfigured(
            "EKORT_PKCS11_PIN is too weak for production: it is a development default, "
            "published in ekort's source. Set the token's own user PIN."
        )
    if EKORT_KEY_KDF_ROUNDS < KEY_FILE_KDF_ROUNDS:
        raise ImproperlyConfigured(
            f"EKORT_KEY_KDF_ROUNDS is {EKORT_KEY_KDF_ROUNDS:,}: production encrypts key files "
            f"with at least {KEY_FILE_KDF_ROUNDS:,} PBKDF2 iterations. Unset it."
        )
    if EKORT_CARD_READER == "virtual" and not EKORT_TEST_SYSTEM:
        raise ImproperlyConfigured(
            "EKORT_CARD_READER is virtual (the default) in production: the virtual chips keep "
            "the cards' private keys in clear in a file, and their PUKs fall to a quick search. "
            "Set EKORT_CARD_READER=pkcs11, or EKORT_TEST_SYSTEM=1 on a test system that holds "
            "no real holder's card."
        )


if PRODUCTION:
    _refuse_in_production()

# --- E-mail notices (services/notices.py, sent by `ekort jobs run`; docs/operations.md) ---
# With EKORT_EMAIL_HOST set, mail goes to that SMTP server (EKORT_EMAIL_PORT, default 587 with
# STARTTLS; EKORT_EMAIL_SECURITY=starttls|tls|none; EKORT_EMAIL_USER and EKORT_EMAIL_PASSWORD
# or EKORT_EMAIL_PASSWORD_FILE). Without it, production hands mail to the local MTA on
# localhost:25, and development (`make run`) writes each run's mail into DATA_DIR/outbox/ as a
# text file to read.
EMAIL_HOST = os.environ.get("EKORT_EMAIL_HOST", "").strip()
DEFAULT_FROM_EMAIL = os.environ.get(
    "EKORT_EMAIL_FROM", "Kortutfärdarportalen <no-reply@regiongavleborg.se>"
)
EMAIL_FILE_PATH = DATA_DIR / "outbox"
EMAIL_TIMEOUT = int(os.environ.get("EKORT_EMAIL_TIMEOUT", "30"))
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _EMAIL_SECURITY = os.environ.get("EKORT_EMAIL_SECURITY", "starttls").strip().lower()
    if _EMAIL_SECURITY not in {"starttls", "tls", "none"}:
        raise ImproperlyConfigured(
            f"EKORT_EMAIL_SECURITY must be starttls, tls or none, not {_EMAIL_SECURITY!r}."
        )
    EMAIL_USE_TLS = _EMAIL_SECURITY == "starttls"
    EMAIL_USE_SSL = _EMAIL_SECURITY == "tls"
    EMAIL_PORT = int(
        os.environ.get(
            "EKORT_EMAIL_PORT", {"starttls": "587", "tls": "465"}.get(_EMAIL_SECURITY, "25")
        )
    )
    EMAIL_HOST_USER = os.environ.get("EKORT_EMAIL_USER", "").strip()
    EMAIL_HOST_PASSWORD = _secret("EKORT_EMAIL_PASSWORD", "", needed=bool(EMAIL_HOST_USER))
elif PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "localhost", 25
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
