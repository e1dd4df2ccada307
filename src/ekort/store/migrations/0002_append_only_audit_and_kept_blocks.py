"""On PostgreSQL, make the audit trail append-only and keep block records ten years, in the
database itself, so that no code path (nor a stray UPDATE in psql) can quietly rewrite them.
`ekort audit verify` still catches what a database owner could do by disabling the triggers.

SQLite gets the same guarantees from the models only: its test databases are emptied with
DELETE between tests, which such triggers would refuse.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ekort_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ekort: audit entries are append-only (%% refused)', TG_OP;
END $$;
CREATE TRIGGER ekort_audit_append_only BEFORE UPDATE OR DELETE ON ekort_auditentry
    FOR EACH ROW EXECUTE FUNCTION ekort_refuse_audit_change();

CREATE FUNCTION ekort_keep_blocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR OLD.registered_at > now() - interval '10 years' THEN
        RAISE EXCEPTION 'ekort: block records are kept at least ten years (%% refused)', TG_OP;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER ekort_block_kept BEFORE UPDATE OR DELETE ON ekort_block
    FOR EACH ROW EXECUTE FUNCTION ekort_keep_blocks();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ekort_block_kept ON ekort_block;
DROP FUNCTION IF EXISTS ekort_keep_blocks();
DROP TRIGGER IF EXISTS ekort_audit_append_only ON ekort_auditentry;
DROP FUNCTION IF EXISTS ekort_refuse_audit_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=())


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=())


class Migration(migrations.Migration):
    dependencies = [("ekort", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
