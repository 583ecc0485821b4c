"""What kind of change an edit makes, the R3 intent that follows from it, and the lexicon guard.

The kind is read off the edit and its sentence alone, so it is the same for every model:
  punctuation     only punctuation changes ("Hi Sarah" -> "Hi Sarah,")
  capitalisation  only letter case changes ("friday" -> "Friday")
  split_join      the same letters, spaced or hyphenated otherwise ("alot" -> "a lot")
  spelling        a word that is not English becomes a close English word ("recieve" -> "receive")
  word_form       another form of the same word ("has" -> "have", "go" -> "went")
  confusion       a word of the same confusion set or function-word class ("their" -> "there", "in" -> "on")
  doubled_word    a repeated word is removed ("the the" -> "the")
  function_word   small words only are added or removed ("I going" -> "I am going")
  rewording       anything else: a correct word becomes another, content words come or go
  unknown_word    the edit writes a word that is neither English nor anywhere in the document

The R3 intent: meaning-changed where a number or a negation changes; fluency for the grammar
kinds; a rewording is clarity under a grammar fix, coherence where it adds a connective, and
otherwise the instruction's own intent (style for "make formal", clarity for "simplify").

The lexicon guard (`guard_min_gain`): an unknown_word edit is never proposed; under a grammar
fix, neither is an edit that changes a number, rewords more than MAX_REWORDED_WORDS content
words or piles one mark on another ("Hi Sarah,."); a rewording, and a change to a name the list
lacks (a word capitalised inside a sentence) that is not a change of its case, is proposed only
if the model's own gain for it reaches REWORDING_MIN_GAIN; a respelling of a word the list lacks
that the document uses more than once
(jargon, or a misspelling the writer repeats: "hte", "recieve") needs REPEATED_WORD_MIN_GAIN.
"""

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from inference import lexicon

GRAMMAR_KINDS = frozenset(
    {
        "punctuation",
        "capitalisation",
        "split_join",
        "spelling",
        "word_form",
        "confusion",
        "doubled_word",
        "function_word",
    }
)
# Nats: a rewording under a grammar fix must be something the model is sure of (chosen on the
# tuning half of the everyday suite, inference/editor_data/everyday; see the README).
REWORDING_MIN_GAIN = 10.0
# Nats, for respelling a word the document repeats: less than a rewording needs, since writers
# repeat their misspellings, but some, since a repeated word may be jargon (chosen on the tuning
# half of the everyday suite).
REPEATED_WORD_MIN_GAIN = 1.5
ANY_GAIN = float("-inf")
# A grammar fix never changes the writer's numbers, nor rewrites more than this many content
# words in one edit (a small model that loses its place drops whole clauses, and a shorter
# answer always scores higher, so no gain can vouch for that).
MAX_REWORDED_WORDS = 1
_NEGATIONS = frozenset("not no never nothing nobody none neither nor without n't cannot".split())
_CONNECTIVES = frozenset(
    "however therefore moreover furthermore also then so but and because thus meanwhile instead besides finally first"
    " second next afterwards consequently although though while whereas still yet otherwise additionally".split()
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_LETTERS = re.compile(r"[^a-z]")


@dataclass(frozen=True)
class EditKind:
    kind: str
    protected_word: bool = False  # it changes a name the list lacks (_is_name)
    repeated_word: bool = False  # it changes a word the list lacks that the document repeats
    # Content words (not function words) that a rewording removes or adds without a word of
    # the same family or confusion set in their place, and whether a number changes.
    content_words: int = 0
    numbers_change: bool = False
    ends_differently: bool = False  # a question or exclamation mark is taken away
    piles_marks: bool = False  # a mark lands right after another ("Hi Sarah," -> "Hi Sarah,.")

    @property
    def is_grammar(self) -> bool:
        return self.kind in GRAMMAR_KINDS


def _word_pairs(before: list[str], after: list[str]) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Replaced word pairs, words removed and words added, aligned by a word diff."""
    pairs: list[tuple[str, str]] = []
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(
        None, [w.lower() for w in before], [w.lower() for w in after], autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        old, new = before[i1:i2], after[j1:j2]
        if tag == "replace" and len(old) == len(new):
            pairs.extend(zip(old, new))
        else:
            removed.extend(old)
            added.extend(new)
    return pairs, removed, added


def _is_doubled(sentence: str, start: int, end: int, removed: list[str]) -> bool:
    """The removed words repeat the words just before or after them in the sentence."""
    if not removed:
        return False
    n = len(removed)
    lowered = [w.lower() for w in removed]
    left = [w.lower() for w in lexicon.words_of(sentence[:start])][-n:]
    right = [w.lower() for w in lexicon.words_of(sentence[end:])][:n]
    return lowered == left or lowered == right


def _is_name(word: str, starts_sentence: bool = False) -> bool:
    """A name the list lacks: a word capitalised inside a sentence ("Priya"; a sentence's first
    word is capitalised anyway, "Hte")."""
    return word[:1].isupper() and not starts_sentence and not lexicon.is_english(word)


def _is_repeated(word: str, document_counts: Counter[str]) -> bool:
    """A word the list lacks that the document uses more than once."""
    return document_counts[word.lower()] > 1 and not lexicon.is_english(word)


def _misspelt(old: str, new: str) -> bool:
    """`old` is not English, or a rare word ("som", "beng") where `new` is a common one."""
    return not lexicon.is_english(old) or lexicon.is_rare(old) and lexicon.is_common(new)


_PILED_MARKS = re.compile(r"[,;:][.!?;:,]")


def _piles_marks(sentence: str, start: int, end: int, after: str) -> bool:
    """The edit writes a mark next to another mark where there was no such pair."""
    revised = sentence[:start] + after + sentence[end:]
    near = lambda text, a, b: _PILED_MARKS.findall(text[max(0, a - 2) : b + 2])  # noqa: E731
    return len(near(revised, start, start + len(after))) > len(near(sentence, start, end))


def _loses_mark(before: str, after: str) -> bool:
    return any(before.count(mark) > after.count(mark) for mark in "?!")


def _pair_kind(old: str, new: str, starts_sentence: bool = False) -> str:
    """The kind of changing one word into another."""
    if old.lower() == new.lower():
        return "capitalisation"
    if _misspelt(old, new) and not _is_name(old, starts_sentence):
        return "spelling" if lexicon.plausible_respelling(old, new) else "rewording"
    if lexicon.same_word_family(old, new):
        return "word_form"
    if lexicon.confusable(old, new):
        return "confusion"
    return "rewording"


def document_word_counts(text: str) -> Counter[str]:
    """The lower-cased words of a document as written, counted (classify_edit's `document_counts`)."""
    return Counter(w.lower() for w in lexicon.words_of(text))


def classify_edit(sentence: str, start: int, end: int, after: str, document_counts: Counter[str]) -> EditKind:
    """The kind of the edit that replaces sentence[start:end] by `after` (offsets within the sentence)."""
    before = sentence[start:end]
    old_words, new_words = lexicon.words_of(before), lexicon.words_of(after)
    written = {w.lower() for w in new_words} - {w.lower() for w in old_words}
    if any(not lexicon.is_english(w) and not document_counts[w] for w in written):
        return EditKind("unknown_word")
    if old_words == new_words:
        return EditKind(
            "punctuation",
            ends_differently=_loses_mark(before, after),
            piles_marks=_piles_marks(sentence, start, end, after),
        )
    if [w.lower() for w in old_words] == [w.lower() for w in new_words]:
        return EditKind("capitalisation")
    if _LETTERS.sub("", before.lower()) == _LETTERS.sub("", after.lower()):
        return EditKind("split_join")

    pairs, removed, added = _word_pairs(old_words, new_words)
    at_start = not sentence[:start].strip(" \t\"'([") and bool(old_words)
    first = lambda old: at_start and old == old_words[0]  # noqa: E731
    respelt = [old for old, new in pairs if old.lower() != new.lower()]
    protected = any(_is_name(old, first(old)) for old in respelt)
    repeated = any(_is_repeated(old, document_counts) for old in respelt)
    pair_kinds = [_pair_kind(old, new, first(old)) for old, new in pairs]
    kinds = set(pair_kinds)
    if removed or added:
        if not added and _is_doubled(sentence, start, end, removed):
            kinds.add("doubled_word")
        elif all(lexicon.is_function_word(w) for w in removed + added):
            kinds.add("function_word")
        else:
            kinds.add("rewording")
    content = pair_kinds.count("rewording")
    content += sum(1 for w in removed + added if not lexicon.is_function_word(w))
    numbers = _DIGITS.findall(before) != _DIGITS.findall(after)
    for kind in ("rewording", "spelling", "word_form", "confusion", "function_word", "doubled_word", "capitalisation"):
        if kind in kinds:
            return EditKind(
                kind, protected, repeated, content if kind == "rewording" else 0, numbers, _loses_mark(before, after)
            )
    return EditKind("punctuation", protected, repeated, 0, numbers, _loses_mark(before, after))


def edit_intent(kind: EditKind, before: str, after: str, instruction_intent: str) -> str:
    """R3's intent for an edit of this kind made under an instruction whose intent is given."""
    if _DIGITS.findall(before) != _DIGITS.findall(after):
        return "meaning-changed"
    negated = lambda text: {w.lower() for w in re.findall(r"[A-Za-z]+|n't", text)} & _NEGATIONS  # noqa: E731
    if negated(before) != negated(after):
        return "meaning-changed"
    if kind.is_grammar:
        return "fluency"
    added = {w.lower() for w in lexicon.words_of(after)} - {w.lower() for w in lexicon.words_of(before)}
    if added & _CONNECTIVES and instruction_intent != "style":
        return "coherence"
    if instruction_intent in ("fluency", ""):
        return "clarity"
    return instruction_intent


def guard_min_gain(kind: EditKind, strict: bool) -> float | None:
    """The model's gain (nats) an edit of this kind must reach to be proposed: None, never;
    ANY_GAIN, none. `strict` under a grammar fix."""
    if kind.kind == "unknown_word":
        return None
    if not strict:
        return ANY_GAIN
    if kind.numbers_change or kind.content_words > MAX_REWORDED_WORDS or kind.piles_marks:
        return None
    if not kind.is_grammar or kind.protected_word or kind.ends_differently:
        return REWORDING_MIN_GAIN
    if kind.repeated_word:
        return REPEATED_WORD_MIN_GAIN
    return ANY_GAIN
