"""Coding feedback exported as JSON lines: the training rows of webapp.coding.datasets, with
TRL's prompt/chosen/rejected columns, for the problems a person may see."""

import json
from typing import Iterable, Iterator

from django.utils import timezone

from webapp.coding.datasets import problem_rows
from webapp.registry.datasets import DatasetFilters


def feedback_export_jsonl(problems: Iterable) -> Iterator[str]:
    filters = DatasetFilters(cutoff=timezone.now())
    for problem in problems:
        for row in problem_rows(problem, filters):
            record = {"prompt": row.prompt, "chosen": row.chosen, "rejected": row.rejected, "meta": row.meta}
            yield json.dumps(record, ensure_ascii=False) + "\n"
