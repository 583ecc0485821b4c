"""Fixes the word lists can offer where the model offered none, under a grammar fix:

  a word no list has ("definately", "wich") becomes the nearest English words' best fit, as the
  model and the words' frequency rank them in its sentence ("which", not "witch"), and an
  over-regular past ("teached") becomes the irregular one ("taught");
  a name written in lower case ("glasgow", "friday", "spanish") gets the capital the word list
  always writes it with, "i" becomes "I", and so does a sentence's first letter ("once the" ->
  "Once the");
  a few sure patterns of confused words: "should of" -> "should have", "their are" -> "there
  are", "its a" -> "it's a", "it's own" -> "its own", "your welcome" -> "you're welcome",
  "more then" -> "more than", "have went" -> "have gone" (_PATTERNS);
  "a" before a vowel sound becomes "an", and "an" before a consonant "a" ("a hour" -> "an hour",
  "an user" -> "a user"; _VOWEL_SOUND and _CONSONANT_SOUND hold the exceptions).

A small model misses many of these (it is sure the sentence is fine as written), while a word
list knows them; its guesses are still checked: a respelling is offered only if the model does
not strongly prefer the word as written (WORD_LIST_MIN_GAIN), which keeps jargon it knows.

Spelling candidates come from pyspellchecker's word list (inference.lexicon); the capitals from Debian's
`wamerican` and `wbritish` word lists (SCOWL; the licence is in /usr/share/doc/wamerican/copyright:
free use, with the copyright notices kept), read from /usr/share/dict.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from inference import lexicon

WORD_LISTS = (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/british-english"))
# Nats: the lowest model gain a respelling from the word list may have (chosen on the tuning half
# of the everyday suite). Below it the model is sure the word is meant, as with jargon it knows.
WORD_LIST_MIN_GAIN = -10.0
# Ranking a fix's candidates: a common word is the likelier meaning ("weird" before "wired").
FREQUENCY_WEIGHT = 1.0
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
_LOWER_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


# Words spelt with a vowel first that start with a consonant sound, and the other way round.
_CONSONANT_SOUND = re.compile(r"^(one|once|uni|use|usu|usa|ut|ure|uro|eu|ewe|ubiq|ufo|uk)", re.I)
_VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)", re.I)


_PREFIXES = ("re", "un", "pre", "de", "dis", "sub", "non", "over", "under", "co", "multi", "auto", "inter", "mis")
_HAS_VOWEL = re.compile(r"[aeiouy]")


_PARTICIPLE_AFTER = r"\b(?:have|has|had|having|'ve)(?: (?:already|just|never|ever|not|always|recently|finally|also))? "
# (pattern, the group to replace, its replacement in lower case): the word in group 1 is wrong.
_PATTERNS = tuple(
    (re.compile(pattern, re.I), replacement)
    for pattern, replacement in (
        (r"\b(?:should|could|would|must|might|may) (of)\b", "have"),
        (r"\b(their) (?:is|are|was|were|isn't|aren't|wasn't|weren't)\b", "there"),
        (
            r"\b(its) (?:a|an|the|been|not|going|getting|raining|just|really|always|never|still|also|so|too|quite)\b",
            "it's",
        ),
        (r"\b(it's) own\b", "its"),
        (r"\b(your) (?:welcome|going|not|being|doing|coming)\b", "you're"),
        (
            r"\b(?:more|less|better|worse|rather|fewer|greater|larger|smaller|higher|lower|older|younger|bigger) "
            r"(then)\b",
            "than",
        ),
        (_PARTICIPLE_AFTER + "(" + "|".join(lexicon.PARTICIPLE_OF_PAST) + r")\b", None),  # the participle
    )
)


class MissingWordList(RuntimeError):
    """A word list this module reads is not installed."""


@dataclass(frozen=True)
class WordFix:
    start: int  # offsets in the sentence
    end: int
    before: str
    candidates: tuple[str, ...]  # one: no choice to make; more: the model ranks them
    sure: bool = False  # a pattern's fix: proposed whatever the model thinks of it


@dataclass(frozen=True)
class _WordLists:
    lower_case: frozenset[str]  # the lists' words in lower case, accents taken off ("cafe", "app")
    capitalised: dict[str, str]  # lower case -> capitalised, for words never written in lower case


@lru_cache(maxsize=1)
def _word_lists() -> _WordLists:
    missing = [str(p) for p in WORD_LISTS if not p.exists()]
    if missing:
        raise MissingWordList(
            f"{', '.join(missing)} not found: install Debian's wamerican and wbritish packages (./dev does)"
        )
    words = {w for path in WORD_LISTS for w in path.read_text(encoding="utf-8", errors="replace").split()}
    lower = {w for w in words if w.islower()}
    capitalised = {
        w.lower(): w for w in words if w[:1].isupper() and w[1:].islower() and w.lower() not in lower and "'" not in w
    }
    return _WordLists(frozenset(_unaccented(w) for w in lower), capitalised)


def _unaccented(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _misspelt(word: str) -> bool:
    """No list has it, it is not a list's word with a prefix ("resize", "unmerges": jargon is
    often made so), and it has a vowel ("rng", "src" are abbreviations)."""
    lower = word.lower()
    if lexicon.is_english(word) or lower in _word_lists().lower_case or not _HAS_VOWEL.search(lower):
        return False
    return not any(
        lower.startswith(prefix) and len(lower) - len(prefix) >= 4 and lexicon.is_english(lower[len(prefix) :])
        for prefix in _PREFIXES
    )


@lru_cache(maxsize=1)
def _by_deletion() -> dict[str, frozenset[str]]:
    """The list's words that are not rare, under each string one deleted letter (or none) makes
    of them: two words one deletion each from a common string are at most two changes apart
    (symmetric deletion, as SymSpell does it; a dictionary look-up per deletion, not a search)."""
    index: dict[str, set[str]] = {}
    for word in lexicon.english_words():
        if lexicon.is_rare(word) or not _LOWER_WORD.fullmatch(word):
            continue
        for deleted in _deletions(word):
            index.setdefault(deleted, set()).add(word)
    return {key: frozenset(words) for key, words in index.items()}


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=4096)
def respellings(word: str) -> tuple[str, ...]:
    """Words of the list that are not rare and are a plausible respelling of `word` (one letter
    changed, added, dropped or swapped; or one dropped and one added), closest first; a
    contraction without its apostrophe, or an over-regular past, gives the one word meant."""
    lower = word.lower()
    past = _irregular_past(lower)
    if past:
        return tuple(past)
    contraction = [
        w for w in (lower[:i] + "'" + lower[i:] for i in range(1, len(lower))) if w in lexicon.english_words()
    ]
    if contraction:  # "dont" -> "don't"
        return tuple(contraction[:1])
    index = _by_deletion()
    near = {w for deleted in _deletions(lower) for w in index.get(deleted, ())} - {lower}
    return tuple(
        sorted(
            (w for w in near if lexicon.plausible_respelling(lower, w)),
            key=lambda w: (lexicon.letter_distance(lower, w), w),
        )
    )


def _irregular_past(word: str) -> list[str]:
    """ "teached" -> ["taught"], "sended" -> ["sent"]: a regular past made of an irregular verb."""
    for suffix in ("ed", "d"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix):
            for group in lexicon.IRREGULAR_VERBS:
                if stem in group:
                    return sorted(group - {stem} - {w for w in group if w.endswith(("s", "ing"))}, key=len)[:1]
    return []


def _standalone(sentence: str, start: int, end: int) -> bool:
    """A word on its own, not part of a number, address, file name or code ("3rd", "example.org")."""
    before = sentence[start - 1] if start else " "
    after = sentence[end] if end < len(sentence) else " "
    after_next = sentence[end + 1] if end + 1 < len(sentence) else " "
    if before.isalnum() or before in "@./_-`\\" or after.isalnum() or after in "@_/-`\\":
        return False
    return not (after == "." and after_next.isalnum())


def _article_for(word: str) -> str:
    vowel = word[:1].lower() in "aeiou" and not _CONSONANT_SOUND.match(word) or bool(_VOWEL_SOUND.match(word))
    return "an" if vowel else "a"


def _cased(candidate: str, written: str) -> str:
    """The candidate with the written word's capital, and "I" always a capital ("im" -> "I'm")."""
    if written[0].isupper() or candidate.startswith("i'"):
        return candidate[0].upper() + candidate[1:]
    return candidate


def _pattern_fixes(sentence: str, edited: list[tuple[int, int]]) -> list[WordFix]:
    fixes = []
    for pattern, replacement in _PATTERNS:
        for m in pattern.finditer(sentence):
            start, end = m.span(1)
            wrong = m.group(1)
            if _touches(start, end, edited) or any(f.start < end and start < f.end for f in fixes):
                continue
            right = replacement or lexicon.PARTICIPLE_OF_PAST[wrong.lower()]
            fixes.append(WordFix(start, end, wrong, (_cased(right, wrong),), sure=True))
    return fixes


def _touches(start: int, end: int, edited: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end or a == b and start <= a <= end for a, b in edited)


def word_fixes(sentence: str, edited: list[tuple[int, int]]) -> list[WordFix]:
    """The word-list fixes for the words of `sentence` that no `edited` span touches."""
    capitals = _word_lists().capitalised
    fixes = _pattern_fixes(sentence, edited)
    edited = edited + [(f.start, f.end) for f in fixes]
    tokens = list(_TOKEN.finditer(sentence))
    for n, m in enumerate(tokens):
        word, start, end = m.group(), m.start(), m.end()
        at_start = n == 0
        if not _standalone(sentence, start, end) or _touches(start, end, edited):
            continue
        following = tokens[n + 1].group() if n + 1 < len(tokens) and tokens[n + 1].start() == end + 1 else ""
        # Only before a word an article can go with: not a single letter or a function word,
        # where "a" may be a variable ("if a is negative", "a and b").
        sure = (
            following.islower()
            and len(following) > 1
            and not lexicon.is_function_word(following)
            and following not in lexicon.IRREGULAR_VERBS[0]
        )
        article = _article_for(following) if word.lower() in ("a", "an") and sure else word.lower()
        if article != word.lower():
            fixes.append(WordFix(start, end, word, (_cased(article, word),)))
        elif at_start and word.islower() and not sentence[:start].strip(" \"'‘“(["):
            fixes.append(WordFix(start, end, word, (word.capitalize(),)))
        elif word == "i":
            fixes.append(WordFix(start, end, word, ("I",)))
        elif word.islower() and word in capitals:
            fixes.append(WordFix(start, end, word, (capitals[word],)))
        elif (word.islower() or at_start and word[1:].islower()) and _misspelt(word):
            found = respellings(word)
            if found:
                fixes.append(WordFix(start, end, word, tuple(_cased(w, word) for w in found)))
    return fixes
