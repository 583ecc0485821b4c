"""The writer's own corrections: respellings they typed by hand, proposed the next time the word
comes back, before any retraining (the error memory of ReLoop2, "Real-world Learning in
Deployed Models": a correction of the model's mistake is remembered and corrects the model
until it is retrained).

A small editor misses some misspellings ("hte", "thq") however often it is retrained, since each
writer misspells in their own way; a writer who fixed "hte" by hand once should not have to again.
Only respellings are remembered: a word that is not English turned into a close English word
("hte" -> "the", "ojbect" -> "object"). A change of one English word into another ("affect" ->
"effect") depends on its sentence, so it is left to the model. A correction the writer rejects
as often as they typed or accepted it is forgotten.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable

from inference import lexicon
from inference.diffing import EditAction

# A text longer than this is not compared word by word (the diff is quadratic at worst).
MAX_COMPARED_CHARS = 100_000


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in lexicon.WORD.finditer(text)]


def is_respelling(wrong: str, right: str) -> bool:
    """`right` is how the writer spells the word they wrote as `wrong`: `wrong` is no English
    word, `right` is one (or a name), and they are close in letters."""
    if wrong.lower() == right.lower() or lexicon.is_english(wrong):
        return False
    right_is_word = lexicon.is_english(right) or (right[:1].isupper() and right[1:].islower())
    return right_is_word and lexicon.plausible_respelling(wrong, right)


def respellings_in(before: str, after: str) -> list[tuple[str, str]]:
    """The (wrong, right) respellings that turn words of `before` into words of `after`, one word
    for one word, in their order."""
    if len(before) > MAX_COMPARED_CHARS or len(after) > MAX_COMPARED_CHARS:
        return []
    old, new = _words(before), _words(after)
    found = []
    matcher = SequenceMatcher(None, [w for w, _, _ in old], [w for w, _, _ in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            found += [(o[0], n[0]) for o, n in zip(old[i1:i2], new[j1:j2]) if is_respelling(o[0], n[0])]
    return found


def _recased(word: str, like: str) -> str:
    """`word` written with the capitals of `like` (an all-capital word, or a first capital)."""
    if len(like) > 1 and like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _stored_form(right: str) -> str:
    """How a respelling is remembered: in lower case unless it is a name ("Glasgow")."""
    return right.lower() if lexicon.is_english(right.lower()) else right


@dataclass(frozen=True)
class CorrectionEdit(EditAction):
    """A word of the text respelt as the writer respelt it before; proposed like a model's edit
    (a fluency fix, in R3's terms), with no model confidence."""

    intent: str = "fluency"
    score: float | None = None
    kind: None = None
    times: int = 1  # how often the writer made it, net of the times they rejected it


class CorrectionMemory:
    """What a writer typed for words they misspelt: each misspelt word (any case) and the
    respelling they made most often."""

    def __init__(self, counts: dict[str, Counter[str]] | None = None):
        self._counts: dict[str, Counter[str]] = defaultdict(Counter, counts or {})

    @classmethod
    def learn(
        cls,
        typed: Iterable[tuple[str, str]],
        accepted: Iterable[tuple[str, str]] = (),
        rejected: Iterable[tuple[str, str]] = (),
    ) -> "CorrectionMemory":
        """From the writer's own edits (text before, text after) and the (before, after) of
        proposals they accepted or rejected: a rejected respelling counts against one typed."""
        memory = cls()
        for before, after in typed:
            for wrong, right in respellings_in(before, after):
                memory._add(wrong, right, 1)
        for wrong, right in accepted:
            if is_respelling(wrong.strip(), right.strip()):
                memory._add(wrong.strip(), right.strip(), 1)
        for wrong, right in rejected:
            memory._add(wrong.strip(), right.strip(), -1)
        return memory

    def _add(self, wrong: str, right: str, times: int) -> None:
        key = wrong.lower()
        if times < 0 and key not in self._counts:
            return
        self._counts[key][_stored_form(right)] += times

    def __len__(self) -> int:
        return sum(1 for key in self._counts if self.respelling_of(key) is not None)

    def respelling_of(self, word: str) -> tuple[str, int] | None:
        """(the writer's respelling of `word` in its capitals, times made), or None."""
        counts = self._counts.get(word.lower())
        if not counts:
            return None
        right, times = counts.most_common(1)[0]
        if times <= 0:
            return None
        return _recased(right, word), times

    def corrections(self, text: str) -> list[CorrectionEdit]:
        """Every word of `text` the writer respelt before, with its respelling."""
        found = []
        for word, start, end in _words(text):
            respelt = self.respelling_of(word)
            if respelt is not None and respelt[0] != word:
                found.append(CorrectionEdit("R", start, end, word, respelt[0], times=respelt[1]))
        return found


def with_corrections(edits: list, corrections: list[CorrectionEdit]) -> list:
    """The model's edits with the writer's corrections added: a correction replaces a model edit
    of exactly its word, and gives way to one that changes more around it."""
    spans = {(c.start, c.end) for c in corrections}
    kept = [e for e in edits if (e.start, e.end) not in spans]
    added = [c for c in corrections if not any(e.start < c.end and c.start < e.end for e in kept)]
    return sorted(kept + added, key=lambda e: (e.start, e.end))
