"""One realistic error injected into a clean sentence; each function is named after its error type.

Every corruption takes the clean sentence and a `random.Random` and returns the corrupted
sentence, or None when the sentence offers no place for that error (no article to swap, no
simple subject before is/are, ...). The fix must be recoverable from the corrupted sentence
alone, which is why dropped words are function words in contexts where their absence is
ungrammatical, and agreement errors sit right after a simple subject.

Misspellings come from codespell's dictionary of real ones (single lowercase words with one
correction), split by a hash of the pair into a training part and a held-out part that only
evaluation uses; training may add synthetic typos (one letter dropped, doubled, swapped or
replaced), never one of the held-out misspellings.
"""

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from inference.editor_data.corpus import is_held_out
from inference.editor_data.words import (
    DETERMINERS,
    FUNCTION_WORDS,
    MODALS,
    PREPOSITIONS,
    THIRD_PERSON,
    VERBS,
    third_person,
)
from inference.sentences import sentence_spans

MISSPELLING_HELD_OUT_PERCENT = 20
_PAIR = re.compile(r"([a-z]+)->([a-z]+)")
_ALPHA = re.compile(r"[A-Za-z]+")

# Nouns after which both is and are (or has and have) can be right.
_NUMBER_AMBIGUOUS = frozenset(
    "data following rest majority number none all most some remaining latter former same above below total "
    "series species news media criteria kind type sort set group pair lot couple".split()
)
AGREEMENT_SWAPS = {
    "is": "are",
    "are": "is",
    "was": "were",
    "were": "was",
    "has": "have",
    "have": "has",
    "does": "do",
    "do": "does",
    "isn't": "aren't",
    "aren't": "isn't",
    "wasn't": "weren't",
    "weren't": "wasn't",
    "hasn't": "haven't",
    "haven't": "hasn't",
    "doesn't": "don't",
    "don't": "doesn't",
}
_DOUBLING_OK = frozenset("that had".split())  # "that that" and "had had" can be right
_A_AN_UNCLEAR = ("u", "h", "eu", "one", "once")  # spelling and sound disagree: "a user", "an hour"
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass(frozen=True)
class Misspellings:
    """codespell's single-word misspellings as correct word -> misspellings, split in two."""

    train: dict[str, tuple[str, ...]]
    held_out: dict[str, tuple[str, ...]]

    def wrong_words(self) -> frozenset[str]:
        return frozenset(w for table in (self.train, self.held_out) for ws in table.values() for w in ws)

    def sizes(self) -> dict[str, int]:
        return {
            name: sum(map(len, table.values())) for name, table in (("train", self.train), ("held_out", self.held_out))
        }


def codespell_dictionary() -> Path:
    spec = find_spec("codespell_lib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The codespell package is needed for the misspelling lists (pip install codespell).")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "dictionary.txt"


@lru_cache(maxsize=4)
def load_misspellings(held_out_percent: int = MISSPELLING_HELD_OUT_PERCENT) -> Misspellings:
    train: dict[str, list[str]] = {}
    held_out: dict[str, list[str]] = {}
    for line in codespell_dictionary().read_text(encoding="utf-8").splitlines():
        match = _PAIR.fullmatch(line.strip())
        if not match or len(match.group(2)) < 3:
            continue
        wrong, right = match.groups()
        table = held_out if is_held_out(f"{wrong}->{right}", held_out_percent, "misspelling") else train
        table.setdefault(right, []).append(wrong)
    return Misspellings(
        {k: tuple(sorted(v)) for k, v in sorted(train.items())},
        {k: tuple(sorted(v)) for k, v in sorted(held_out.items())},
    )


def _is_word(token: str) -> bool:
    return bool(_ALPHA.fullmatch(token))


def _match_case(word: str, like: str) -> str:
    return word[0].upper() + word[1:] if like[:1].isupper() else word


def _one_sentence(corrupted: str, clean: str) -> str | None:
    """The corrupted sentence, if it differs from the clean one and still reads as one sentence."""
    if corrupted == clean or sentence_spans(corrupted) != [(0, len(corrupted))]:
        return None
    return corrupted


def misspelling(sentence: str, rng: random.Random, table: dict[str, tuple[str, ...]]) -> str | None:
    """One word replaced by a real misspelling of it from `table` (correct -> misspellings)."""
    tokens = sentence.split(" ")
    places = []
    for i, token in enumerate(tokens):
        core = token.rstrip(".,;)").lstrip("(")
        if _is_word(core) and core[1:].islower() and core.lower() in table:
            places.append(i)
    if not places:
        return None
    i = rng.choice(places)
    core = tokens[i].rstrip(".,;)").lstrip("(")
    wrong = _match_case(rng.choice(table[core.lower()]), core)
    tokens[i] = tokens[i].replace(core, wrong, 1)
    return _one_sentence(" ".join(tokens), sentence)


_VOWELS = "aeiou"
# Spelling confusions people make (each side can stand for the other).
_SOUND_ALIKES = (
    ("ie", "ei"),
    ("ance", "ence"),
    ("ant", "ent"),
    ("able", "ible"),
    ("tion", "sion"),
    ("ph", "f"),
    ("ck", "k"),
    ("ous", "ious"),
    ("er", "re"),
    ("ary", "ery"),
    ("ise", "ize"),
    ("c", "s"),
)


def _keyboard_neighbour(letter: str, rng: random.Random) -> str:
    for row in _KEYBOARD_ROWS:
        j = row.find(letter.lower())
        if j >= 0:
            return rng.choice([row[k] for k in (j - 1, j + 1) if 0 <= k < len(row)])
    return letter


def synthetic_typo(word: str, rng: random.Random) -> str:
    """`word` with one slip of the kinds real misspellings show: a letter dropped, doubled or
    inserted, a doubled letter written once, two letters swapped, a key beside the right one,
    a vowel for another, or a sound-alike spelling ("ei" for "ie", "ance" for "ence"). The first
    letter is kept (people rarely mistype it)."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(("drop", "double", "undouble", "swap", "neighbour", "insert", "vowel", "sound"))
    if kind == "undouble":
        doubled = [j for j in range(1, len(word) - 1) if word[j] == word[j + 1]]
        if doubled:
            j = rng.choice(doubled)
            return word[:j] + word[j + 1 :]
        kind = "drop"
    if kind == "sound":
        found = []
        for a, b in _SOUND_ALIKES:
            for written, instead in ((a, b), (b, a)):
                j = word.find(written, 1)
                if j > 0:
                    found.append((j, written, instead))
        if found:
            j, a, b = rng.choice(found)
            return word[:j] + b + word[j + len(a) :]
        kind = "vowel"
    if kind == "vowel":
        vowels = [j for j in range(1, len(word)) if word[j] in _VOWELS]
        if vowels:
            j = rng.choice(vowels)
            return word[:j] + rng.choice([v for v in _VOWELS if v != word[j]]) + word[j + 1 :]
        kind = "neighbour"
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "insert":
        return word[:i] + _keyboard_neighbour(word[i], rng) + word[i:]
    if kind == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + _keyboard_neighbour(word[i], rng) + word[i + 1 :]


def synthetic_misspelling(
    sentence: str, rng: random.Random, known: frozenset[str], avoid: frozenset[str]
) -> str | None:
    """One word of 3+ letters given a synthetic typo that is neither a known word nor in `avoid`."""
    tokens = sentence.split(" ")
    places = [
        i
        for i, t in enumerate(tokens)
        if len(c := t.rstrip(".,;)").lstrip("(")) >= 3 and _is_word(c) and c[1:].islower()
    ]
    if not places:
        return None
    i = rng.choice(places)
    core = tokens[i].rstrip(".,;)").lstrip("(")
    for _ in range(5):
        wrong = synthetic_typo(core, rng)
        if wrong.lower() not in known and wrong.lower() not in avoid:
            tokens[i] = tokens[i].replace(core, wrong, 1)
            return _one_sentence(" ".join(tokens), sentence)
    return None


def doubled_word(sentence: str, rng: random.Random) -> str | None:
    """A word written twice: "the the", "is is"; short function words are the likeliest."""
    tokens = sentence.split(" ")
    places, weights = [], []
    for i, token in enumerate(tokens):
        if _is_word(token) and token.lower() not in _DOUBLING_OK:
            places.append(i)
            weights.append(4 if token.lower() in FUNCTION_WORDS else 1)
    if not places:
        return None
    i = rng.choices(places, weights)[0]
    tokens[i] = f"{tokens[i]} {tokens[i].lower() if i == 0 and tokens[i] != 'I' else tokens[i]}"
    return _one_sentence(" ".join(tokens), sentence)


# Words that take "to" and a verb after them: "able to read", "in order to", "a way to stop".
_BEFORE_INFINITIVE = frozenset(
    "able unable need needs needed want wants wanted order try tries tried trying attempt attempts attempted "
    "going way ways how possible impossible necessary easy easier hard harder difficult safe unsafe likely "
    "unlikely allowed required expected designed intended meant supposed sure useful ready enough used".split()
)
# Participles and adjectives that need "be" after a modal: "can be used", "will be able".
_AFTER_BE = frozenset(
    "done given taken written shown seen known built kept held thrown chosen broken hidden sent lost paid "
    "able unable aware careful true false valid invalid available unavailable possible necessary empty".split()
)
# "the" is the only article before these: "in the same way", "of the following".
_ONLY_THE = frozenset(
    "same only following rest former latter first last second third next previous largest smallest highest lowest "
    "longest shortest earliest latest newest oldest biggest greatest fastest slowest simplest easiest closest "
    "nearest best worst".split()
)
_ONLY_THE_BEFORE_OF = frozenset("end beginning middle start top bottom".split())
# Words before which "of" is the only way on: "one of the", "instead of", "the value of the".
_QUANTIFIERS = frozenset("one some each most many none any either neither several part instead rest".split())
_OF_CAN_GO = frozenset("all both half out inside outside off because made".split())  # "all the" still reads
_PRONOUN_IS = frozenset("it he she".split())
_PRONOUN_ARE = frozenset("they we you".split())
# After a dropped is/are these still need it; a participle would not ("it raised" reads as past).
_BE_FOLLOWERS = frozenset("not a an the".split())


def _participle(word: str) -> bool:
    return (word.endswith("ed") and len(word) > 4) or word in _AFTER_BE


def _drop_is_clear(tokens: list[str], i: int) -> bool:
    """Whether tokens[i], a function word, leaves a gap that only it fills when dropped."""
    word, prev, nxt = tokens[i], tokens[i - 1].lower(), tokens[i + 1].rstrip(".,;").lower()
    after = tokens[i + 2].rstrip(".,;").lower() if i + 2 < len(tokens) else ""
    if word == "be":
        return prev in MODALS and _participle(nxt)
    if word == "to":
        return prev in _BEFORE_INFINITIVE and (nxt in VERBS or nxt == "be")
    if word == "of":
        if not (nxt in DETERMINERS or nxt in ("them", "these", "those", "it")) or prev in _OF_CAN_GO:
            return False
        return prev in _QUANTIFIERS or not (
            prev in FUNCTION_WORDS or prev in VERBS or prev in THIRD_PERSON or prev.endswith(("ed", "ly", "ing"))
        )
    if word == "the":
        if not (prev in PREPOSITIONS or prev == "as") or not tokens[i + 1].isalpha():  # "at first," stays as it is
            return False
        return nxt in _ONLY_THE or (nxt in _ONLY_THE_BEFORE_OF and after == "of")
    if word in ("is", "are"):
        subject = _PRONOUN_IS if word == "is" else _PRONOUN_ARE
        at_start = i == 1 and prev in (("this", "that") if word == "is" else ("these", "those"))
        if not (prev in subject or at_start or _simple_subject(tokens, i) == "either"):
            return False
        return nxt in _BE_FOLLOWERS
    return False


def dropped_word(sentence: str, rng: random.Random) -> str | None:
    """A function word left out where the gap is ungrammatical and only that word fills it:
    "be" after a modal before a participle ("can used"), "to" before a verb after a word that
    takes it ("able read"), "of" before a determiner ("one the keys", "the value the key"),
    "the" after a preposition before a word that needs it ("in same way"), and "is"/"are"
    after a simple subject ("it not set", "the value not set")."""
    tokens = sentence.split(" ")
    places = []
    for i in range(1, len(tokens) - 1):
        word, prev, nxt = tokens[i], tokens[i - 1], tokens[i + 1]
        if _is_word(word) and _is_word(prev) and _is_word(nxt.rstrip(".,;")) and _drop_is_clear(tokens, i):
            places.append(i)
    if not places:
        return None
    i = rng.choice(places)
    return _one_sentence(" ".join(tokens[:i] + tokens[i + 1 :]), sentence)


def _simple_subject(tokens: list[str], i: int) -> str | None:
    """ "singular" or "plural" when tokens[:i] end in a simple subject of known number, "either"
    when it is a determiner and one noun (the verb already agrees with it), else None."""
    prev = tokens[i - 1].lower()
    if prev in ("it", "he", "she") or (i == 1 and prev in ("this", "that")):
        return "singular"
    if prev in ("they", "we") or (i == 1 and prev in ("these", "those")):
        return "plural"
    if (
        i >= 2
        and tokens[i - 2].lower() in DETERMINERS
        and (i == 2 or tokens[i - 3].lower() not in PREPOSITIONS)  # "the size of the list is": not "list"
        and _is_word(tokens[i - 1])
        and tokens[i - 1].islower()
        and prev not in FUNCTION_WORDS
        and prev not in _NUMBER_AMBIGUOUS
        and not prev.endswith("ly")
    ):
        return "either"
    return None


_OBJECT_STARTS = DETERMINERS | PREPOSITIONS | frozenset("to true false none whether if when it them that".split())


def _object_follows(tokens: list[str], i: int) -> bool:
    """Whether what follows tokens[i] reads as its object, so that an -s word there is a verb
    ("the function returns the value") and not a plural noun ("the expected splits sizes")."""
    return tokens[i].endswith(".") or (i + 1 < len(tokens) and tokens[i + 1].lower() in _OBJECT_STARTS)


def agreement(sentence: str, rng: random.Random) -> str | None:
    """A verb that no longer agrees with its simple subject (a pronoun, or a determiner and one
    noun): is/are, was/were, has/have, does/do swapped ("the value are"), or a present-tense
    verb's -s added or dropped ("it return", "they returns")."""
    tokens = sentence.split(" ")
    places: list[tuple[int, str]] = []
    for i in range(1, len(tokens)):
        verb = tokens[i].rstrip(".,;")
        subject = (
            _simple_subject(tokens, i) if verb in AGREEMENT_SWAPS or verb in THIRD_PERSON or verb in VERBS else None
        )
        if subject is None:
            continue
        if verb in AGREEMENT_SWAPS:
            places.append((i, AGREEMENT_SWAPS[verb]))
        elif verb in THIRD_PERSON and (subject == "singular" or (subject == "either" and _object_follows(tokens, i))):
            places.append((i, THIRD_PERSON[verb]))
        elif verb in VERBS and subject == "plural":  # not after "the noun": "the return value"
            places.append((i, third_person(verb)))
    if not places:
        return None
    i, wrong = rng.choice(places)
    tokens[i] = wrong + tokens[i][len(tokens[i].rstrip(".,;")) :]
    return _one_sentence(" ".join(tokens), sentence)


def article(sentence: str, rng: random.Random) -> str | None:
    """ "a" and "an" swapped before a word whose spelling shows its first sound ("an value")."""
    tokens = sentence.split(" ")
    places = []
    for i in range(len(tokens) - 1):
        nxt = tokens[i + 1].lstrip("(")
        if tokens[i] in ("a", "an", "A", "An") and nxt[:1].isalpha() and not nxt.lower().startswith(_A_AN_UNCLEAR):
            places.append(i)
    if not places:
        return None
    i = rng.choice(places)
    swapped = {"a": "an", "an": "a", "A": "An", "An": "A"}[tokens[i]]
    tokens[i] = swapped
    return _one_sentence(" ".join(tokens), sentence)


def capitalisation(sentence: str, rng: random.Random) -> str | None:
    """The sentence's first letter in lower case, or the pronoun "I" written "i"."""
    tokens = sentence.split(" ")
    options = []
    if tokens[0][:1].isupper() and tokens[0] != "I" and (len(tokens[0]) == 1 or tokens[0][1:].islower()):
        options.append("initial")
    pronoun = [i for i, t in enumerate(tokens) if i > 0 and (t == "I" or t.startswith(("I'm", "I've", "I'll", "I'd")))]
    if pronoun:
        options.append("pronoun")
    if not options:
        return None
    if rng.choice(options) == "initial":
        tokens[0] = tokens[0][0].lower() + tokens[0][1:]
    else:
        i = rng.choice(pronoun)
        tokens[i] = "i" + tokens[i][1:]
    return _one_sentence(" ".join(tokens), sentence)


def punctuation(sentence: str, rng: random.Random) -> str | None:
    """The final period left out, a space before a comma or the period, a mark doubled, or no
    space after a comma."""
    options = []
    if sentence.endswith("."):
        options += ["missing_period", "space_before", "doubled"]
    commas = [m.start() for m in re.finditer(r",(?= )", sentence)]
    if commas:
        options += ["space_before", "doubled", "missing_space"]
    if not options:
        return None
    kind = rng.choice(options)
    if kind == "missing_period":
        return _one_sentence(sentence[:-1], sentence)
    marks = ([len(sentence) - 1] if sentence.endswith(".") else []) + commas
    if kind == "missing_space":
        at = rng.choice(commas)
        return _one_sentence(sentence[: at + 1] + sentence[at + 2 :], sentence)
    at = rng.choice(marks)
    if kind == "space_before":
        return _one_sentence(sentence[:at] + " " + sentence[at:], sentence)
    return _one_sentence(sentence[: at + 1] + sentence[at] + sentence[at + 1 :], sentence)


# Learners' confusions, each way they go wrong (the right word, then what people write for it).
LEARNER_CONFUSIONS = {
    "their": ("there", "they're"),
    "there": ("their",),
    "they're": ("their", "there"),
    "your": ("you're",),
    "you're": ("your",),
    "its": ("it's",),
    "it's": ("its",),
    "than": ("then",),
    "then": ("than",),
    "too": ("to",),
    "lose": ("loose",),
    "affect": ("effect",),
    "effect": ("affect",),
    "whose": ("who's",),
    "where": ("were",),
    "were": ("where",),
    "quite": ("quiet",),
    "quiet": ("quite",),
    "advice": ("advise",),
    "accept": ("except",),
    "whole": ("hole",),
    "piece": ("peace",),
    "weather": ("whether",),
    "whether": ("weather",),
    "passed": ("past",),
    "from": ("form",),
    "excited": ("exited",),
    "definitely": ("defiantly",),
    "a lot": ("alot",),
}
_CONFUSABLE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, LEARNER_CONFUSIONS), key=len, reverse=True)) + r")\b")
_HAVE_AFTER_MODAL = re.compile(r"\b(could|should|would|must|might) have\b")
_MID_SENTENCE_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,})\b")


def confusion(sentence: str, rng: random.Random) -> str | None:
    """A word written as the one people confuse it with ("their" as "there", "than" as "then",
    "should have" as "should of")."""
    places = [(m.start(), m.end(), rng.choice(LEARNER_CONFUSIONS[m.group(1)])) for m in _CONFUSABLE.finditer(sentence)]
    places += [(m.end() - 4, m.end(), "of") for m in _HAVE_AFTER_MODAL.finditer(sentence)]
    if not places:
        return None
    start, end, wrong = rng.choice(places)
    return _one_sentence(sentence[:start] + wrong + sentence[end:], sentence)


def name_capitalisation(sentence: str, rng: random.Random) -> str | None:
    """A capitalised word inside the sentence (a name, a day, a month, a place) in lower case."""
    places = [m for m in _MID_SENTENCE_NAME.finditer(sentence)]
    if not places:
        return None
    m = rng.choice(places)
    return _one_sentence(sentence[: m.start()] + m.group(1).lower() + sentence[m.end() :], sentence)


# The error types fix_grammar is trained on, in report order. misspelling needs its table.
ERROR_TYPES = ("misspelling", "doubled_word", "dropped_word", "agreement", "article", "capitalisation", "punctuation")
# Also trained in the everyday phase (inference.editor_config), not part of the domain suites.
EVERYDAY_ERROR_TYPES = ("confusion", "name_capitalisation")
CORRUPTIONS = {
    f.__name__: f
    for f in (
        doubled_word,
        dropped_word,
        agreement,
        article,
        capitalisation,
        punctuation,
        confusion,
        name_capitalisation,
    )
}
