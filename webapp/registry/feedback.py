"""What people said of each version's proposals, as training and its screens read it.

The app that holds the decisions (writing) registers its readers in its ready(); training asks
here and never imports it. Coding registers which version wrote each candidate, for the
comparisons preferences derives from its rows. When a round of decisions closes in a project, the app sends
`decisions_closed` (on commit), and training's receiver checks the project's retrain policy.
"""

from dataclasses import dataclass
from datetime import date
from typing import Callable

from django.dispatch import Signal

# Sent on commit with project_id=... when a round's decisions are final (a round was applied).
decisions_closed = Signal()


@dataclass(frozen=True)
class DailyAcceptance:
    day: date
    accepted: int
    rejected: int

    @property
    def rate(self) -> float | None:
        decided = self.accepted + self.rejected
        return self.accepted / decided if decided else None


@dataclass(frozen=True)
class DecisionReaders:
    project_decisions: Callable[[int], int]  # project id -> how many decisions it holds (undos aside)
    daily_acceptance: Callable[[list[int]], dict[int, list[DailyAcceptance]]]  # version ids -> per day


_READERS: dict[str, DecisionReaders] = {}
_OUTPUT_VERSIONS: dict[str, Callable[[list[int]], dict[int, int | None]]] = {}


def decision_readers_register(name: str, readers: DecisionReaders) -> None:
    """Make an app's decisions readable here as source `name` (called from its ready())."""
    _READERS[name] = readers


def project_decision_count(*, project_id: int) -> int:
    """The decisions people made in the project, over every registered source."""
    return sum(readers.project_decisions(project_id) for readers in _READERS.values())


def acceptance_by_version_and_day(version_ids: list[int]) -> dict[int, list[DailyAcceptance]]:
    """For each version, per day: how many of its proposals people accepted and rejected."""
    found: dict[int, list[DailyAcceptance]] = {}
    for readers in _READERS.values():
        for version_id, days in readers.daily_acceptance(version_ids).items():
            found[version_id] = sorted(found.get(version_id, []) + days, key=lambda d: d.day)
    return found


def output_versions_register(name: str, versions_of: Callable[[list[int]], dict[int, int | None]]) -> None:
    """How source `name` tells which version made each of its outputs (ids in its dataset rows'
    meta, e.g. coding's candidates), for whoever shows those outputs side by side."""
    _OUTPUT_VERSIONS[name] = versions_of


def output_versions(name: str, output_ids: list[int]) -> dict[int, int | None]:
    """{output id: the id of the version that made it} for the outputs of source `name`."""
    return _OUTPUT_VERSIONS[name](output_ids)
