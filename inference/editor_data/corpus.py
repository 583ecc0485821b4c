"""Well-formed English sentences from prose that is on every machine with the project installed.

Sources, in a fixed order: the text of Python's reference topics (`pydoc_data.topics`), then the
docstrings and `#` comment blocks of the standard library and of a fixed list of the
project's pinned dependencies, read as text (no module is imported). /usr/share/doc is not
read: what it holds depends on which Debian packages a machine happens to have. Paragraphs
that look like code, tables or field lists are skipped; what is left is split into sentences
that must pass a strict shape filter (plain words, one final period, 6 to 30 words) and
contain only words seen at least MIN_WORD_COUNT times in the whole set, which drops
identifiers and the sources' own typos. Sentences are deduplicated, sorted, and put in the
held-out split when a hash of their text says so. The same Python and package versions give
the same corpus (Corpus.fingerprint).
"""

import hashlib
import inspect
import re
import sysconfig
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable, Iterator

from inference.sentences import sentence_spans

# The pinned dependencies whose docstrings are read (their versions are fixed by pyproject.toml).
PACKAGES = (
    "django",
    "transformers",
    "datasets",
    "accelerate",
    "peft",
    "trl",
    "celery",
    "kombu",
    "rest_framework",
    "torch",
)
SOURCES = ("pydoc", "stdlib", "packages")
HELD_OUT_PERCENT = 5
MIN_WORDS, MAX_WORDS = 6, 30
MIN_WORD_COUNT = 3
_SKIPPED_DIRS = {
    "test",
    "tests",
    "testing",
    "idlelib",
    "lib2to3",
    "ensurepip",
    "site-packages",
    "__pycache__",
    "_vendor",
    "vendor",
}

_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
_W = r"[A-Za-z]+(?:['-][A-Za-z]+)*"
_SENTENCE_SHAPE = re.compile(rf"[A-Z][a-z]*(?:['-][A-Za-z]+)*(?:[,;]?\)? \(?{_W})+\)?\.")
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " "}
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_CODE_HINTS = re.compile(r">>>|::|\.\.\s|\w\(|\)\w|=|\{|\}|\[|\]|`|\*|_|\\|\||/|@|#|\$|%|<|>|\d")
_SECTION_HEADERS = re.compile(
    r"^\s*(Args|Arguments|Parameters|Returns?|Yields?|Raises|Examples?|Notes?|Attributes|See Also|Usage)\s*:?\s*$", re.M
)


def stable_hash(text: str) -> int:
    """A hash that is the same on every machine and run (unlike hash())."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16)


def is_held_out(key: str, percent: int, salt: str) -> bool:
    return stable_hash(f"{salt}:{key}") % 100 < percent


def words(sentence: str) -> list[str]:
    return _WORD.findall(sentence)


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return _python_files(root)


def _package_files(packages: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for name in packages:
        spec = find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in sorted(spec.submodule_search_locations):
            files += _python_files(Path(location))
    return files


def _python_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*.py"):
        parts = set(path.relative_to(root).parts[:-1])
        if parts & _SKIPPED_DIRS or path.name.startswith("test_"):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


_DOCSTRING = re.compile(r'^[ \t]*[rRuU]?("""|\'\'\')(.*?)\1', re.S | re.M)


def docstrings(source: str) -> list[str]:
    """Triple-quoted strings that stand at the start of a line (docstrings, mostly), dedented.

    A regular expression rather than `ast`: parsing every file of torch takes minutes on a
    small machine, and the sentence filter drops whatever else this catches."""
    return [inspect.cleandoc(m.group(2)) for m in _DOCSTRING.finditer(source)]


_COMMENT_LINE = re.compile(r"^[ \t]*# ?(.*)$")


def comments(source: str) -> list[str]:
    """Blocks of consecutive full-line `#` comments, each as one text (line breaks kept)."""
    blocks, current = [], []
    for line in source.split("\n"):
        match = _COMMENT_LINE.match(line)
        if match and not line.lstrip().startswith(("#!", "#:")):
            current.append(match.group(1))
            continue
        if current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def prose_texts(sources: Iterable[str] = SOURCES, packages: Iterable[str] = PACKAGES) -> Iterator[str]:
    """Raw prose texts from the named sources, in a fixed order."""
    sources = tuple(sources)
    if "pydoc" in sources:
        from pydoc_data.topics import topics

        for key in sorted(topics):
            yield topics[key]
    files = (_stdlib_files() if "stdlib" in sources else []) + (
        _package_files(packages) if "packages" in sources else []
    )
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        yield from docstrings(source)
        yield from comments(source)


def paragraphs(text: str) -> Iterator[str]:
    """Prose paragraphs of `text`, each on one line; code blocks, lists and field lists are skipped."""
    text = _SECTION_HEADERS.sub("\n", text)
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        if any(len(line) - len(line.lstrip()) != indent for line in lines):
            continue  # code, a definition list or a wrapped field list
        first = lines[0].strip()
        if first[:1] in "-*+•|>" or re.match(r"\d+[.)]\s", first) or block.rstrip().endswith(":"):
            continue
        yield " ".join(line.strip() for line in lines)


def acceptable(sentence: str) -> bool:
    """A plain English sentence: letters, spaces and simple punctuation, one final period."""
    if not MIN_WORDS <= len(sentence.split()) <= MAX_WORDS or len(sentence) > 220:
        return False
    if _CODE_HINTS.search(sentence) or not _SENTENCE_SHAPE.fullmatch(sentence):
        return False
    tokens = words(sentence)
    if any(t[1:] != t[1:].lower() for t in tokens):  # camelCase, ALLCAPS
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("(") > 1:
        return False
    if sum(t[0].isupper() for t in tokens[1:]) > 2:  # a title or a list of names
        return False
    return sentence_spans(sentence) == [(0, len(sentence))]


def candidate_sentences(texts: Iterable[str]) -> list[str]:
    """Acceptable sentences of `texts`, deduplicated, in first-seen order."""
    seen: set[str] = set()
    found = []
    for text in texts:
        for paragraph in paragraphs(text.translate(_TYPOGRAPHY)):
            for sentence in _SENTENCE_SPLIT.split(paragraph):
                sentence = " ".join(sentence.split())
                if sentence not in seen and sentence.isascii() and acceptable(sentence):
                    seen.add(sentence)
                    found.append(sentence)
    return found


@dataclass(frozen=True)
class Corpus:
    train: list[str]
    held_out: list[str]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "held_out": len(self.held_out)}

    def fingerprint(self) -> str:
        """A hash of all sentences: two machines built the same corpus when theirs agree."""
        return hashlib.sha256("\n".join(self.train + ["--"] + self.held_out).encode("utf-8")).hexdigest()[:16]


def build_corpus(
    sources: Iterable[str] = SOURCES,
    packages: Iterable[str] = PACKAGES,
    exclude_words: frozenset[str] = frozenset(),
    held_out_percent: int = HELD_OUT_PERCENT,
) -> Corpus:
    """Sorted train and held-out sentences; any sentence with a word in `exclude_words`
    (known misspellings) or a word rarer than MIN_WORD_COUNT is dropped."""
    candidates = candidate_sentences(prose_texts(sources, packages))
    counts: dict[str, int] = {}
    for sentence in candidates:
        for w in words(sentence):
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    kept = sorted(
        s
        for s in candidates
        if all(counts[w.lower()] >= MIN_WORD_COUNT and w.lower() not in exclude_words for w in words(s))
    )
    train = [s for s in kept if not is_held_out(s, held_out_percent, "sentence")]
    held_out = [s for s in kept if is_held_out(s, held_out_percent, "sentence")]
    return Corpus(train, held_out)
