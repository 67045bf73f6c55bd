"""The library's domain exceptions: what the CLI and the editors' pages turn into messages.

Every reason data is refused is a `Reason`: an English message with %(name)s placeholders,
marked with `N_` so that `pybabel extract` puts it in the pages' catalog, and the values to fill
in. `str()` gives the English the CLI prints; the editors' pages translate the message and fill
in the same values (editors/words.py `reason_shown`). claims/ itself never translates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def N_(message: str) -> str:
    """Mark a message for the pages' catalog (extracted, translated on the pages, not here)."""
    return message


@dataclass(frozen=True)
class Reason:
    """Why something was refused: a marked English message and its values.

    A value may be a Reason itself (a kind of value, "a number"), translated with the message.
    """

    message: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __str__(self) -> str:
        if not self.values:
            return self.message
        return self.message % {name: str(value) if isinstance(value, Reason) else value
                               for name, value in self.values.items()}


def reason(message: str | Reason, **values: Any) -> Reason:
    """Give a Reason from a marked message and its values (a Reason stays as it is)."""
    return message if isinstance(message, Reason) else Reason(message, values)


class ClaimNotFound(LookupError):
    """No claim has the requested id."""

    def __init__(self, claim_id: str):
        super().__init__(f"no claim with id {claim_id!r}")
        self.claim_id = claim_id


class InvalidClaim(ValueError):
    """Claim data that cannot be stored; ``field`` names the culprit (None: the whole row).

    ``message`` is a marked message (N_) with %(name)s placeholders, filled from ``values``;
    ``reason`` keeps both for a page to translate.
    """

    def __init__(self, field: str | None, message: str | Reason, **values: Any):
        self.reason = reason(message, **values)
        self.field = field
        self.message = str(self.reason)
        super().__init__(f"field '{field}': {self.message}" if field else self.message)


class IncompleteClaim(InvalidClaim):
    """A fact-check that cannot be published yet; ``missing`` names every field it lacks.

    ``unknown_label``: the label given, when the verdict is missing because no one knows it.
    """

    def __init__(self, missing: Sequence[str], unknown_label: str = ""):
        self.missing = tuple(missing)
        self.unknown_label = unknown_label
        detail = (Reason(N_(" (%(label)s is not a known verdict label)"),
                         {"label": repr(unknown_label), "unknown": unknown_label})
                  if unknown_label else "")
        super().__init__(self.missing[0], N_(
            "a published fact-check needs a verdict, a summary and a link; missing: "
            "%(fields)s%(detail)s (a draft may be incomplete)"),
            fields=", ".join(self.missing), detail=detail)


@dataclass(frozen=True)
class ImportProblem:
    """Why one row of a batch was refused, and where it is (``unit`` "line" or "item")."""

    line: int
    field: str | None
    reason: Reason
    unit: str = "line"
    missing: tuple[str, ...] = ()  # what the row lacks to be published (IncompleteClaim)

    def __post_init__(self):
        object.__setattr__(self, "reason", reason(self.reason))

    @property
    def message(self) -> str:
        """The reason in English."""
        return str(self.reason)

    def __str__(self) -> str:
        parts = [f"{self.unit} {self.line}"] if self.line > 0 else []  # 0: the whole file
        if self.field:
            parts.append(f"field '{self.field}'")
        return f"{', '.join(parts)}: {self.message}" if parts else self.message


class ClaimsRejected(ValueError):
    """Claims refused as a whole (an import, `flask claims add`); nothing was written.

    Names the first problem; ``problems`` lists them all.
    """

    def __init__(self, problem: ImportProblem, problems: Sequence[ImportProblem] = ()):
        super().__init__(str(problem))
        self.problem = problem
        self.problems = list(problems) or [problem]
        self.line = problem.line
        self.field = problem.field
        self.message = problem.message
        self.reason = problem.reason


__all__ = ["ClaimNotFound", "ClaimsRejected", "ImportProblem", "IncompleteClaim", "InvalidClaim",
           "N_", "Reason", "reason"]
