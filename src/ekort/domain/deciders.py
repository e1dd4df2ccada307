"""Which domain function decides each rule (`errors.decides`): every module of the domain is
imported, so that all their marks are read."""

from __future__ import annotations

import importlib
import pkgutil

from .errors import DECIDED_BY


def deciders() -> dict[str, list[str]]:
    """Rule ID -> the functions marked as deciding it (one each, when the code is right)."""
    package = importlib.import_module(__package__ or "ekort.domain")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return {rule_id: sorted(set(names)) for rule_id, names in DECIDED_BY.items()}
