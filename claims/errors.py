"""The library's domain exceptions: what the CLI and the editors' pages turn into messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ClaimNotFound(LookupError):
    """No claim has the requested id."""

    def __init__(self, claim_id: str):
        super().__init__(f"no claim with id {claim_id!r}")
        self.claim_id = claim_id


class InvalidClaim(ValueError):
    """Claim data that cannot be stored; ``field`` names the culprit (None: the whole row)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(f"field '{field}': {message}" if field else message)
        self.field = field
        self.message = message


class IncompleteClaim(InvalidClaim):
    """A fact-check that cannot be published yet; ``missing`` names every field it lacks."""

    def __init__(self, missing: Sequence[str], detail: str = ""):
        self.missing = tuple(missing)
        super().__init__(self.missing[0], (
            f"a published fact-check needs a verdict, a summary and a link; missing: "
            f"{', '.join(self.missing)}{detail} (a draft may be incomplete)"))


@dataclass(frozen=True)
class ImportProblem:
    """Why one row of a batch was refused, and where it is (``unit`` "line" or "item")."""

    line: int
    field: str | None
    message: str
    unit: str = "line"
    missing: tuple[str, ...] = ()  # what the row lacks to be published (IncompleteClaim)

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


__all__ = ["ClaimNotFound", "ClaimsRejected", "ImportProblem", "IncompleteClaim", "InvalidClaim"]
