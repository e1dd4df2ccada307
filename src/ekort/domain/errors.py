"""Errors the domain raises. Every refusal names the rule behind it.

Messages come in Swedish (for the portal) and English (for logs and the command line).
`str(error)` is the English sentence prefixed with the rule ID, so a refusal that reaches a
log or a terminal always says which rule refused it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar


class DomainError(Exception):
    """Base class for every error a person can meet in the domain."""


class InvalidInput(DomainError, ValueError):
    """Input that cannot be understood at all (a malformed identifier, date, PIN...)."""


class InvalidIdentifier(InvalidInput):
    """A personnummer, samordningsnummer, HSA-id or card number that is not valid; the message
    says why in English, and `problem` names what is wrong for a page to say in its own words
    (`ekort.domain.identifiers.IdentifierProblem`; empty when no more is known)."""

    def __init__(self, message: str, *, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem


class NotFound(DomainError, LookupError):
    """Something asked for by a person does not exist (an unknown card number, say)."""


@dataclass(frozen=True)
class Decision:
    """The answer to "may this be done now?": allowed or refused, always with the rule."""

    allowed: bool
    rule: str
    sv: str
    en: str

    @classmethod
    def allow(cls, rule: str, sv: str, en: str) -> Decision:
        return cls(True, rule, sv, en)

    @classmethod
    def refuse(cls, rule: str, sv: str, en: str) -> Decision:
        return cls(False, rule, sv, en)

    def require(self) -> None:
        """Raise `Refused` unless this decision allows the action."""
        if not self.allowed:
            raise Refused(self.rule, self.sv, self.en)


class Refused(DomainError):
    """An action that the rules do not allow. Carries the rule ID and both sentences."""

    def __init__(self, rule: str, sv: str, en: str) -> None:
        self.rule = rule
        self.sv = sv
        self.en = en
        super().__init__(f"{rule}: {en}")

    @property
    def decision(self) -> Decision:
        return Decision.refuse(self.rule, self.sv, self.en)


_Decider = TypeVar("_Decider", bound=Callable[..., Any])

# Rule ID -> the domain function that decides it ("module.qualname"), filled by `decides` as
# the domain's modules are imported; `ekort.domain.deciders` imports them all.
DECIDED_BY: dict[str, list[str]] = {}


def decides(*rule_ids: str) -> Callable[[_Decider], _Decider]:
    """Mark the domain function that decides these rules: the one function that refuses them.
    Services call it and `.require()` the answer; pages and the API ask it to show or hide a
    form. `ekort docs` names it in docs/rules.md."""

    def mark(function: _Decider) -> _Decider:
        name = f"{function.__module__}.{function.__qualname__}"
        for rule_id in rule_ids:
            DECIDED_BY.setdefault(rule_id, []).append(name)
        return function

    return mark
