"""The audit trail is tamper-evident: whatever a database owner does to it with raw SQL
(edit, remove, insert, cut off the end), `audit.verify_trail()` and `ekort audit verify`
name the entry where the chain breaks. And no PIN ever reaches it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ekort.services import audit, cards
from ekort.store.models import AuditEntry
from tests import instants as t
from tests.integration.journeys import PASSPORT, sent

pytestmark = pytest.mark.django_db

# Raw SQL as a database owner would type it (constant strings, parameters for the values).
EDIT_AFTER = {
    "postgresql": 'UPDATE ekort_auditentry SET "after" = %s::jsonb WHERE seq = %s',
    "sqlite": 'UPDATE ekort_auditentry SET "after" = %s WHERE seq = %s',
}
# A copy of entry 2, MACs and all, appended under a new seq.
COPY_ENTRY_2 = (
    "INSERT INTO ekort_auditentry "
    '(seq, at, actor, action, object_type, object_id, reason, "before", "after", prev_mac, mac) '
    'SELECT %s, at, actor, action, object_type, object_id, reason, "before", "after", '
    "prev_mac, mac FROM ekort_auditentry WHERE seq = 2"
)
# A forged entry after the newest one: linked to it, but with a MAC made up without the key.
FORGE_AFTER = (
    "INSERT INTO ekort_auditentry "
    '(seq, at, actor, action, object_type, object_id, reason, "before", "after", prev_mac, mac) '
    'SELECT %s, at, %s, action, object_type, object_id, reason, "before", "after", '
    "mac, %s FROM ekort_auditentry WHERE seq = %s"
)


@pytest.fixture
def trail(world) -> int:
    """A photo card sent home and activated, a reserve card sent and blocked; the newest seq."""
    card = sent(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
    cards.activate(
        actor=world.id_admin,
        now=t.sthlm(2024, 2, 5, 10),
        activations={card.pk: cards.Activation(PASSPORT, "402918")},
    ).one()
    reserve = sent(world, "reserve", t.NEW_PROCESS, t.NEW_PROCESS)
    cards.block(
        actor=world.support,
        reason="lost",
        requested_by="the holder",
        now=t.sthlm(2024, 2, 6, 9),
        card_ids=[reserve.pk],
    ).one()
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 8
    return seqs[-1]


@pytest.fixture
def as_database_owner(trail):
    """Raw SQL on the audit table, as its owner could: on PostgreSQL the append-only trigger
    is disabled first (and enabled again afterwards)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE ekort_auditentry DISABLE TRIGGER USER")

        def sql(statement: str, params: tuple[object, ...] = ()) -> None:
            cursor.execute(statement, params)

        yield sql
        if postgres:
            cursor.execute("ALTER TABLE ekort_auditentry ENABLE TRIGGER USER")


def verify_command() -> tuple[str, str]:
    """Run `ekort audit verify`: its stdout and, if it failed, the error message."""
    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def findings() -> list[tuple[int, str]]:
    return [(finding.seq, finding.problem) for finding in audit.verify_trail()]


def assert_reported(expected: list[tuple[int, str]]) -> None:
    """verify_trail() finds exactly these (seq, problem fragment) and the command says so,
    one TAMPERED line naming each entry, and fails."""
    found = findings()
    assert len(found) == len(expected), found
    for (seq, problem), (want_seq, fragment) in zip(found, expected, strict=True):
        assert seq == want_seq, found
        assert fragment in problem, found
    out, error = verify_command()
    assert error == f"The audit trail is broken in {len(expected)} place(s)."
    lines = out.splitlines()
    assert len(lines) == len(expected)
    for line, (seq, problem) in zip(lines, found, strict=True):
        assert line == f"TAMPERED entry {seq}: {problem}"


def test_trail_verifies_clean_after_a_journey(trail):
    assert audit.verify_trail() == []
    out, error = verify_command()
    assert error == ""
    assert out.strip() == (f"The audit trail is intact: {trail} entries, chain and head agree.")


def test_edited_entry_is_reported(trail, as_database_owner):
    activation = AuditEntry.objects.get(action="activate")
    as_database_owner(EDIT_AFTER[connection.vendor], ('{"state": "sent_inactive"}', activation.seq))
    assert AuditEntry.objects.get(seq=activation.seq).after == {"state": "sent_inactive"}
    assert_reported([(activation.seq, "content does not match its MAC (edited)")])


def test_entry_removed_from_the_middle_is_reported(trail, as_database_owner):
    middle = trail // 2
    as_database_owner("DELETE FROM ekort_auditentry WHERE seq = %s", (middle,))
    assert_reported(
        [
            (middle + 1, f"entries {middle}..{middle} are missing (removed)"),
            (middle + 1, "does not link to the entry before it"),
        ]
    )


def test_copied_entry_appended_with_a_new_seq_is_reported(trail, as_database_owner):
    as_database_owner(COPY_ENTRY_2, (trail + 1,))
    assert_reported(
        [
            (trail + 1, "does not link to the entry before it"),
            (trail + 1, "content does not match its MAC"),
            (trail + 1, f"the chain ends at entry {trail + 1} but the head records entry {trail}"),
        ]
    )


def test_forged_entry_with_a_wrong_mac_is_reported(trail, as_database_owner):
    as_database_owner(FORGE_AFTER, (trail + 1, "intruder", "f" * 64, trail))
    assert_reported(
        [
            (trail + 1, "content does not match its MAC"),
            (trail + 1, f"the chain ends at entry {trail + 1} but the head records entry {trail}"),
        ]
    )


def test_newest_entry_removed_is_reported_by_the_head(trail, as_database_owner):
    as_database_owner("DELETE FROM ekort_auditentry WHERE seq = %s", (trail,))
    assert_reported(
        [
            (trail - 1, f"the chain ends at entry {trail - 1} but the head records entry {trail}"),
        ]
    )


def test_trail_never_contains_a_pin(trail):
    activation = AuditEntry.objects.get(action="activate")
    assert activation.after["pin_set"] is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ekort_auditentry")
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    # Every column but the MACs, which are hex digests (random digits, not data).
    kept = [i for i, name in enumerate(names) if name not in {"mac", "prev_mac"}]
    text = "\n".join(" ".join(str(row[i]) for i in kept) for row in rows)
    assert len(rows) == trail
    assert activation.after["card_number"] in text  # the search does see the entries' content
    assert "pin_set" in text
    assert "402918" not in text


def test_truncation_with_the_head_set_back_is_caught_only_by_an_anchor(trail, as_database_owner):
    """Deleting the newest entry AND setting the head back to the genuine entry before it
    leaves a consistent chain; an anchor kept outside the database still catches it."""
    anchor = audit.current_anchor()
    previous = AuditEntry.objects.get(seq=trail - 1)
    as_database_owner("DELETE FROM ekort_auditentry WHERE seq = %s", (trail,))
    as_database_owner(
        "UPDATE ekort_audithead SET seq = %s, mac = %s WHERE id = 1", (trail - 1, previous.mac)
    )
    assert audit.verify_trail() == []  # the limit of a chain kept in the same database
    problems = [(f.seq, f.problem) for f in audit.verify_trail(dict([audit.parse_anchor(anchor)]))]
    assert problems == [(trail, "an anchor was recorded for it but the entry is gone")]
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--anchor", anchor, stdout=out)
    assert f"TAMPERED entry {trail}: an anchor was recorded" in out.getvalue()


def test_anchor_command_and_bad_anchor(trail):
    out = StringIO()
    call_command("audit", "anchor", stdout=out)
    seq, mac = audit.parse_anchor(out.getvalue())
    assert seq == trail
    assert mac == AuditEntry.objects.get(seq=trail).mac
    call_command("audit", "verify", "--anchor", out.getvalue().strip(), stdout=StringIO())
    with pytest.raises(CommandError, match="An anchor looks like"):
        call_command("audit", "verify", "--anchor", "12:xyz", stdout=StringIO())
