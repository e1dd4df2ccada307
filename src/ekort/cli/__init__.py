"""The `ekort` command line: a front for Django's management commands."""
