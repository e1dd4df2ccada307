"""`ekort ca init|show|chain|crl|publish|renew|reencrypt`: the certificate authority's hierarchy,
its CRLs, and its key files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from ekort.domain.errors import DomainError
from ekort.services import clock
from ekort.services.ca import authority, backends, status
from ekort.services.ca.backends import KeyError_
from ekort.store.models import CertificateAuthority


class Command(BaseCommand):
    help = (
        "Create the CA hierarchy (init), list it (show), print the root and issuing CAs' "
        "certificates that the TLS proxy verifies cards against (chain), write a CA's CRL "
        "(crl), publish "
        "what is due: stale OCSP responses and CRLs (publish [--loop SECONDS]), or give an "
        "issuing CA a successor with a new key before it ends (renew --ca NAME), or rewrite "
        "the key files at the current cost (reencrypt [--old-passphrase-file PATH])."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "verb", choices=["init", "show", "chain", "crl", "publish", "renew", "reencrypt"]
        )
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="with publish: keep publishing, every SECONDS (the CRL scheduler)",
        )
        parser.add_argument("--ca", help="with crl and renew: the CA's name or URL slug")
        parser.add_argument("--out", help="with crl: write the DER CRL to this file")
        parser.add_argument(
            "--old-passphrase-file",
            metavar="PATH",
            help="with reencrypt: the passphrase the key files were written with, when "
            "EKORT_KEY_PASSPHRASE is a new one (every file is then rewritten)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['verb']}")(options)
        except DomainError as problem:
            raise CommandError(str(problem)) from problem

    def _init(self, options: dict[str, Any]) -> None:
        hierarchy = authority.init_hierarchy(now=clock.now())
        self.stdout.write(f"Created {hierarchy.root.name} and:")
        for level, ca in hierarchy.issuing.items():
            self.stdout.write(f"  LoA{level}: {ca.name} (OCSP: {hierarchy.responders[level].name})")
        self._show(options)

    def _show(self, options: dict[str, Any]) -> None:
        rows = CertificateAuthority.objects.order_by("pk")
        if not rows:
            self.stdout.write("No CA yet: run `ekort ca init`.")
            return
        for ca in rows:
            cert = authority.certificate_of(ca)
            key = cert.public_key()
            algorithm = type(key).__name__.replace("_", "")
            size = getattr(key, "key_size", "")
            self.stdout.write(
                f"{ca.role:8} {ca.name:40} LoA{ca.assurance_level or '-':2} "
                f"{algorithm}{size:>5}  {cert.not_valid_before_utc:%Y-%m-%d} .. "
                f"{cert.not_valid_after_utc:%Y-%m-%d}  serial {cert.serial_number:x}  "
                f"{authority.slug(ca)}"
            )

    def _chain(self, options: dict[str, Any]) -> None:
        """PEM of the root and every issuing CA: nginx's ssl_client_certificate (E16)."""
        chain = authority.client_ca_chain()
        if not chain:
            raise CommandError("No CA yet: run `ekort ca init`.")
        self.stdout.write(chain, ending="")

    def _crl(self, options: dict[str, Any]) -> None:
        wanted = options["ca"]
        now = clock.now()
        # Every CA ekort signs CRLs for: the root, the issuing CAs (a renewed one until it
        # ends) and another region's issuer of additional certificates (R13), as the
        # scheduler does.
        cas = [
            ca for ca in status.crl_issuers(now) if wanted in (None, ca.name, authority.slug(ca))
        ]
        if not cas:
            ended = [
                ca
                for ca in CertificateAuthority.objects.filter(role__in=status.CRL_ISSUERS)
                if wanted in (ca.name, authority.slug(ca))
            ]
            if ended:
                raise CommandError(
                    f"{ended[0].name} ended on {ended[0].not_after:%Y-%m-%d}, and every "
                    "certificate it issued with it: it signs no more CRLs."
                )
            raise CommandError(f"No CA called {wanted!r}; `ekort ca show` lists them.")
        if options["out"] and len(cas) != 1:
            raise CommandError("--out writes one CRL: name the CA with --ca.")
        for ca in cas:
            crl = status.build_crl(ca, now)
            if options["out"]:
                Path(options["out"]).write_bytes(bytes(crl.der))
            self.stdout.write(
                f"CRL {crl.number} of {ca.name}: {crl.entries} entries, {len(crl.der)} bytes, "
                f"next update {crl.next_update:%Y-%m-%d %H:%M}"
            )

    def _renew(self, options: dict[str, Any]) -> None:
        wanted = options["ca"]
        if not wanted:
            raise CommandError("Name the issuing CA to renew with --ca (`ekort ca show`).")
        found = [
            ca
            for ca in CertificateAuthority.objects.all()
            if wanted in (ca.name, authority.slug(ca))
        ]
        if not found:
            raise CommandError(f"No CA called {wanted!r}; `ekort ca show` lists them.")
        old = found[0]
        new = authority.renew_issuing_ca(old, now=clock.now())
        self.stdout.write(
            f"Renewed {old.name} as {new.name}: {new.not_before:%Y-%m-%d} .. "
            f"{new.not_after:%Y-%m-%d}, OCSP signer {authority.responder_for(new).name}. "
            f"New card certificates come from {new.name}; {old.name} goes on signing CRLs and "
            f"OCSP answers for its certificates until it ends on {old.not_after:%Y-%m-%d}."
        )

    def _reencrypt(self, options: dict[str, Any]) -> None:
        path = options["old_passphrase_file"]
        old = Path(path).read_text(encoding="utf-8").strip().encode("utf-8") if path else None
        try:
            done = backends.reencrypt_key_files(old_passphrase=old)
        except KeyError_ as problem:
            raise CommandError(str(problem)) from None
        cost = f"{settings.EKORT_KEY_KDF_ROUNDS:,}"
        for label, rounds in done.items():
            before = "not PBKDF2" if rounds is None else f"{rounds:,}"
            self.stdout.write(f"{label}: {before} -> {cost} PBKDF2 iterations")
        files = "key file" if len(done) == 1 else "key files"
        self.stdout.write(
            f"Re-encrypted {len(done)} {files}; every key file is now at {cost} iterations or "
            "more. Restart the portal, the responder and the scheduler if the passphrase changed."
        )

    def _publish(self, options: dict[str, Any]) -> None:
        interval = options["loop"]
        if interval is not None and interval < 1:
            raise CommandError("--loop must be at least 1 second.")
        while True:
            for crl in status.publish_due(clock.now()):
                self.stdout.write(
                    f"{clock.now():%Y-%m-%d %H:%M:%S} CRL {crl.number} of {crl.issuer.name}: "
                    f"{crl.entries} entries"
                )
            if interval is None:
                return
            close_old_connections()
            time.sleep(interval)
