"""The domain core of ekort, in plain Python.

Nothing in this package imports Django or any adapter (an import-linter contract in
pyproject.toml enforces it): the card lifecycle, the dated policy calendar, the identifier
rules and the other decisions live here and are tested without a database.
"""
