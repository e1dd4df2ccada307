"""The database adapter: Django models for persons, offices, cards and the audit trail."""
