"""Dataset builders: where training rows come from.

Each source of feedback (writing decisions, coding results, preference labels) registers one
builder, a function from DatasetFilters to DatasetRows, in its app's ready(). Snapshots
(webapp.training.snapshots) call the builders they are asked for and freeze what they return.
A builder must be deterministic for the same filters: the same data and cutoff give the same
rows in the same order, so that a snapshot can be rebuilt and checked against its hash.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable


@dataclass(frozen=True)
class DatasetFilters:
    cutoff: datetime  # feedback given up to this time
    project_id: int | None = None
    since: datetime | None = None  # feedback given after this time


@dataclass(frozen=True)
class DatasetRow:
    """A prompt, the output people chose and, for a pair, the output they turned down."""

    source: str
    prompt: str
    chosen: str
    rejected: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def is_pair(self) -> bool:
        return bool(self.rejected) and self.rejected != self.chosen


Builder = Callable[[DatasetFilters], Iterable[DatasetRow]]

_BUILDERS: dict[str, tuple[str, Builder]] = {}


def dataset_builder_register(name: str, label: str, builder: Builder) -> None:
    """Make `builder` available to snapshots as source `name` (called from an app's ready())."""
    _BUILDERS[name] = (label, builder)


def dataset_builders() -> dict[str, str]:
    """Registered sources and their labels, in registration order."""
    return {name: label for name, (label, _) in _BUILDERS.items()}


def dataset_rows(name: str, filters: DatasetFilters) -> list[DatasetRow]:
    if name not in _BUILDERS:
        raise KeyError(name)
    return list(_BUILDERS[name][1](filters))
