"""The everyday-prose suite: sentences of the kind writers really bring, with their corrections.

880 sentences written for Redline by its team (inference/editor_data/everyday/README.md): 440
with one to three real mistakes each (spelling, confusions, agreement, verb forms, articles,
prepositions, commas, run-ons, wrong words, capitals, doubled and missing words) and 440 correct
ones, in five registers: e-mails and messages, essays and blogs, reports, stories, instructions.

Half of it, chosen by a hash of the sentence, is held out: no threshold, mix or model choice may
look at it (`part="held_out"`); the other half (`part="tune"`) is what tuning looks at. Nothing
here is used for training.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from inference.editor_data.corpus import is_held_out

DATA_DIR = Path(__file__).parent / "everyday"
REGISTERS = ("emails", "essays", "reports", "stories", "instructions")
KINDS = (
    "spelling",
    "confusion",
    "agreement",
    "verb_form",
    "article",
    "preposition",
    "comma_missing",
    "comma_extra",
    "run_on",
    "wrong_word",
    "capitalisation",
    "doubled_word",
    "missing_word",
)
PARTS = ("tune", "held_out", "all")
HELD_OUT_PERCENT = 50
_SALT = "everyday"


@dataclass(frozen=True)
class EverydaySentence:
    register: str
    source: str
    target: str
    kinds: tuple[str, ...]  # one per mistake; empty for a correct sentence

    @property
    def correct(self) -> bool:
        return self.source == self.target

    @property
    def held_out(self) -> bool:
        return is_held_out(self.source, HELD_OUT_PERCENT, _SALT)


class SuiteError(ValueError):
    """A line of the suite's files is malformed."""


def _parse(register: str, number: int, line: str) -> EverydaySentence:
    where = f"{register}.jsonl line {number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise SuiteError(f"{where}: not JSON ({error.msg})") from None
    if not isinstance(row, dict) or set(row) != {"source", "target", "kinds"}:
        raise SuiteError(f"{where}: needs exactly the keys source, target and kinds")
    source, target, kinds = row["source"], row["target"], row["kinds"]
    if not (isinstance(source, str) and isinstance(target, str) and source.strip() and target.strip()):
        raise SuiteError(f"{where}: source and target must be non-empty text")
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        raise SuiteError(f"{where}: kinds must be a list drawn from {', '.join(KINDS)}")
    if (source == target) != (not kinds):
        raise SuiteError(f"{where}: a correct sentence has no kinds, a sentence with mistakes lists them")
    return EverydaySentence(register, source, target, tuple(kinds))


def load_suite(part: str = "all", registers: tuple[str, ...] = REGISTERS) -> list[EverydaySentence]:
    """The suite's sentences of one part (PARTS), in file order, register by register."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}")
    found = []
    for register in registers:
        lines = (DATA_DIR / f"{register}.jsonl").read_text(encoding="utf-8").splitlines()
        found += [_parse(register, n, line) for n, line in enumerate(lines, 1) if line.strip()]
    if part == "all":
        return found
    return [s for s in found if s.held_out == (part == "held_out")]
