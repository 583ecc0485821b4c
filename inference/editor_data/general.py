"""Sentences of general English for the built-in editor's everyday phase, all offline.

  team     inference/editor_data/everyday_train.txt: about 1,500 sentences of e-mails, messages,
           essays, reviews, reports, stories and instructions written for Redline by its team
           (part of this repository);
  wordnet  the example sentences of WordNet 3.0's glosses ("She sighed sadly"), from Debian's
           `wordnet-base` (/usr/share/wordnet; the WordNet 3.0 licence, which allows use and
           redistribution with its notice); without the package, asking for it is an error.

A sentence is kept if it is plain ASCII, one sentence (inference.sentences), 5 to 30 words, starts
with a capital letter, and every word is English (inference.lexicon) or a capitalised name; a
final period is added where WordNet leaves it out. Nothing that is, or nearly is, a sentence of
the everyday evaluation suite is kept (the same words in the same order, case and punctuation
aside), so the suite stays a test of what the model never saw.
"""

import re
from pathlib import Path
from typing import Iterable

from inference import lexicon
from inference.sentences import sentence_spans

GENERAL_SOURCES = ("team", "wordnet")
TEAM_FILE = Path(__file__).parent / "everyday_train.txt"
WORDNET_DIR = Path("/usr/share/wordnet")
MIN_WORDS, MAX_WORDS = 5, 30
_QUOTED = re.compile(r'"([^"]+)"')
_PLAIN = re.compile(r"[A-Za-z0-9 ,.;:'?!$%()\-/@&]+")


def team_sentences() -> list[str]:
    return [line.strip() for line in TEAM_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


class MissingSource(ValueError):
    """A general source is not installed on this machine."""


def wordnet_sentences(root: Path = WORDNET_DIR) -> list[str]:
    """The quoted examples of WordNet's data files, in file order."""
    if not (root / "data.noun").is_file():
        raise MissingSource(
            f"WordNet's examples are read from {root}: install Debian's wordnet-base "
            "(apt-get install wordnet-base), or leave 'wordnet' out of the everyday sources"
        )
    found = []
    for part in ("noun", "verb", "adj", "adv"):
        path = root / f"data.{part}"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="latin-1").splitlines():
            if "|" in line and not line.startswith("  "):
                found += [m.strip() for m in _QUOTED.findall(line.split("|", 1)[1])]
    return found


def _fingerprint(sentence: str) -> str:
    return " ".join(w.lower() for w in lexicon.words_of(sentence))


def usable(sentence: str) -> str | None:
    """The sentence as training text, or None (module docstring)."""
    sentence = " ".join(sentence.split())
    if sentence and sentence[-1].isalnum():
        sentence += "."
    if not sentence.isascii() or not _PLAIN.fullmatch(sentence) or not sentence[:1].isupper():
        return None
    tokens = lexicon.words_of(sentence)
    if not MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
        return None
    if any(not lexicon.is_english(w) and not w[:1].isupper() for w in tokens):
        return None
    if sentence_spans(sentence) != [(0, len(sentence))]:
        return None
    return sentence


def general_sentences(sources: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Usable sentences of the named general sources, deduplicated, in source order, without
    any whose words are those of a sentence in `exclude` (the evaluation suite's)."""
    banned = {_fingerprint(s) for s in exclude}
    seen: set[str] = set()
    found = []
    for source in sources:
        texts = team_sentences() if source == "team" else wordnet_sentences() if source == "wordnet" else None
        if texts is None:
            raise ValueError(f"unknown general source {source!r}; choose from {', '.join(GENERAL_SOURCES)}")
        for text in texts:
            sentence = usable(text)
            if sentence is not None and sentence not in seen and _fingerprint(sentence) not in banned:
                seen.add(sentence)
                found.append(sentence)
    return found
