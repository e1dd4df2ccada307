"""The web adapter. The full portal comes later; for now a start page, the rules for a date and
the Django admin, all under a banner that says when time is simulated."""
