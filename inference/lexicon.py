"""English words, and the changes of one word into another that a grammar fix may make.

The word list is pyspellchecker's English dictionary (MIT licence; its frequency list comes from
OpenSubtitles through the FrequencyWords project, CC BY-SA 4.0), about 160,000 words, lower case,
contractions included and common misspellings excluded ("recieve", "definately", "alot" are not
in it). It loads in about 0.3 s, once per process, and only where an edit is checked.

A grammar fix changes a correctly spelt word into another only in known ways: its capital letter
("friday" -> "Friday"), another form of the same word ("has" -> "have", "go" -> "went"), a word
of its confusion set ("their" -> "there", "then" -> "than", "of" -> "have"), another function
word of the same class ("a" -> "the", "in" -> "on"), or a split or join ("alot" -> "a lot").
Anything else ("Sarah" -> "Hash", "team" -> "term") changes what the writer said.
"""

import re
from functools import lru_cache

WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")

# Words people confuse with one another (homophones, near-homophones, common slips).
CONFUSION_SETS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "their there they're",
        "your you're",
        "its it's",
        "then than",
        "affect effect affects effects affected effected",
        "lose loose",
        "to too two",
        "accept except",
        "who's whose",
        "were where we're wear",
        "quite quiet quit",
        "advice advise",
        "principal principle",
        "compliment complement",
        "desert dessert",
        "passed past",
        "weather whether",
        "hear here",
        "know no now",
        "new knew",
        "write right",
        "buy by bye",
        "one won",
        "peace piece",
        "whole hole",
        "bear bare",
        "brake break",
        "morale moral",
        "stationary stationery",
        "excited exited",
        "definitely defiantly",
        "lead led",
        "loan lone",
        "site sight cite",
        "threw through thorough though",
        "of have",
        "of off",
        "form from",
        "an and",
        "as has",
        "is it",
        "in it",
        "on one",
        "we were",
        "than that",
        "every very",
        "fell feel",
        "lay lie",
        "rise raise",
        "sit set",
        "further farther",
        "fewer less",
        "among between",
        "since sense",
        "dose does",
        "ensure insure",
        "allowed aloud",
        "council counsel",
        "personal personnel",
        "later latter",
        "elicit illicit",
        "emigrate immigrate",
        "wander wonder",
        "steal steel",
        "meat meet",
        "mail male",
        "sale sail",
        "week weak",
        "waist waste",
        "tale tail",
        "plain plane",
        "role roll",
        "rain reign rein",
        "flour flower",
        "diary dairy",
        "breath breathe",
        "cloth clothe clothes",
        "choose chose",
        "envelop envelope",
        "device devise",
        "practice practise",
        "license licence",
        "everyday every",
        "awhile while",
        "anyway anyways",
        "maybe may",
        "into in",
        "onto on",
        "alot lot",
        "alright right",
        "thru through",
        "till until",
        "cause because",
    )
)
# Function words that may stand in for one another within their class.
FUNCTION_CLASSES: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "a an the this that these those",
        "in on at to for of with by from about into onto over under after before during until till since"
        " through across along around among between against toward towards without within upon off out",
        "is are was were be been being am 's 're 'm",
        "has have had having 's 've 'd",
        "do does did done doing",
        "will would shall should can could may might must",
        "and but or so nor yet",
        "i me my mine myself",
        "he him his himself she her hers herself",
        "we us our ours ourselves they them their theirs themselves",
        "who whom whose which that what",
        "much many more most less least few fewer little",
        "some any no every each all both either neither",
    )
)
# Irregular verbs: base, past, past participle (and more forms where they differ).
_IRREGULAR_VERB_LINES = (
    "be is are am was were been being",
    "have has had having",
    "do does did done doing",
    "go goes went gone going",
    "begin began begun",
    "break broke broken",
    "bring brought",
    "build built",
    "buy bought",
    "catch caught",
    "choose chose chosen",
    "come came",
    "cost",
    "cut",
    "draw drew drawn",
    "drink drank drunk",
    "drive drove driven",
    "eat ate eaten",
    "fall fell fallen",
    "feel felt",
    "fight fought",
    "find found",
    "fly flew flown",
    "forget forgot forgotten",
    "freeze froze frozen",
    "get got gotten",
    "give gave given",
    "grow grew grown",
    "hang hung",
    "hear heard",
    "hide hid hidden",
    "hold held",
    "keep kept",
    "know knew known",
    "lay laid",
    "lead led",
    "leave left",
    "lend lent",
    "lie lay lain",
    "lose lost",
    "make made",
    "mean meant",
    "meet met",
    "pay paid",
    "ride rode ridden",
    "ring rang rung",
    "rise rose risen",
    "run ran",
    "say said",
    "see saw seen",
    "seek sought",
    "sell sold",
    "send sent",
    "shake shook shaken",
    "shine shone",
    "shoot shot",
    "show showed shown",
    "shrink shrank shrunk",
    "sing sang sung",
    "sink sank sunk",
    "sit sat",
    "sleep slept",
    "speak spoke spoken",
    "spend spent",
    "stand stood",
    "steal stole stolen",
    "stick stuck",
    "sting stung",
    "strike struck",
    "swear swore sworn",
    "swim swam swum",
    "take took taken",
    "teach taught",
    "tear tore torn",
    "tell told",
    "think thought",
    "throw threw thrown",
    "understand understood",
    "wake woke woken",
    "wear wore worn",
    "win won",
    "write wrote written",
    "bite bit bitten",
    "blow blew blown",
    "dig dug",
    "feed fed",
    "forgive forgave forgiven",
    "light lit",
    "prove proved proven",
    "sew sewed sewn",
    "spin spun",
    "spring sprang sprung",
    "weave wove woven",
)
IRREGULAR_VERBS = tuple(frozenset(line.split()) for line in _IRREGULAR_VERB_LINES)


_PAST_ALSO_PARTICIPLE = frozenset({"got", "proved", "showed", "sewed"})  # "have got" is right too


def _participles() -> dict[str, str]:
    """Simple past -> past participle, where they differ ("wrote" -> "written", "went" -> "gone")."""
    pairs = {"was": "been", "were": "been"}
    for line in _IRREGULAR_VERB_LINES:
        forms = line.split()
        if len(forms) in (3, 5) and forms[0] != "lie":  # 5: "go goes went gone going"
            past, participle = forms[-2:] if len(forms) == 3 else forms[2:4]
            if past != participle and past not in _PAST_ALSO_PARTICIPLE:
                pairs[past] = participle
    return pairs


PARTICIPLE_OF_PAST = _participles()
# Inflections only: "customer" is not a form of "custom", nor "lately" of "late".
_SUFFIXES = ("s", "es", "ed", "d", "ing", "ies", "ied", "'s", "s'")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The lower-case word list (see the module docstring)."""
    return frozenset(_frequencies().keys())


def words_of(text: str) -> list[str]:
    return WORD.findall(text)


# British spellings, turned into the American ones the list has ("colour" -> "color").
_BRITISH = tuple(
    (re.compile(pattern), american)
    for pattern, american in (
        (r"our(s|ed|ing|ite|ites|able|ful|less)?$", r"or\1"),
        (r"tre(s|d)?$", r"ter\1"),
        (r"yse(s|d)?$", r"yze\1"),
        (r"is(e|es|ed|ing|ation|ations|er|ers)$", r"iz\1"),
        (r"ogue(s)?$", r"og\1"),
        (r"ence$", r"ense"),
        (r"lled$", r"led"),
        (r"lling$", r"ling"),
        (r"ller(s)?$", r"ler\1"),
    )
)


def is_english(word: str) -> bool:
    """A word of the list, any case: with a possessive ("children's"), in British spelling
    ("favourite", "centre", "apologise"), or hyphenated with each part a word; curly
    apostrophes read straight."""
    known = english_words()
    lower = word.lower().replace("’", "'")
    if lower in known:
        return True
    if lower.endswith(("'s", "s'")) and lower[:-2] + ("s" if lower.endswith("s'") else "") in known:
        return True
    if any(pattern.search(lower) and pattern.sub(american, lower) in known for pattern, american in _BRITISH):
        return True
    return "-" in lower and all(part in known for part in lower.split("-") if part)


def _stem_candidates(word: str) -> set[str]:
    stems = {word}
    for suffix in _SUFFIXES:
        if suffix and word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: -len(suffix)]
            stems.update({stem, stem + "e", stem + "y"})
            if len(stem) >= 3 and stem[-1] == stem[-2]:
                stems.add(stem[:-1])  # "stopped" -> "stop"
    return stems


def same_word_family(a: str, b: str) -> bool:
    """Two inflections of one word: "has"/"have", "go"/"went", "walk"/"walked", "study"/"studies"."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    if any(a in group and b in group for group in IRREGULAR_VERBS):
        return True
    shared = _stem_candidates(a) & _stem_candidates(b)
    return any(len(stem) >= 3 and stem in english_words() for stem in shared)


def confusable(a: str, b: str) -> bool:
    """`a` may become `b` in a grammar fix though both are words (see the module docstring)."""
    a, b = a.lower().replace("’", "'"), b.lower().replace("’", "'")
    if a == b or same_word_family(a, b):
        return True
    return any(a in group and b in group for group in CONFUSION_SETS + FUNCTION_CLASSES)


def is_function_word(word: str) -> bool:
    lower = word.lower()
    return any(lower in group for group in FUNCTION_CLASSES)


def letter_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), case-insensitive."""
    a, b = a.lower(), b.lower()
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def plausible_respelling(wrong: str, right: str) -> bool:
    """`right` is close enough in letters to be what `wrong` meant: at most 2 changes, or a third
    of the letters for long words ("acommodate" -> "accommodate", "libralie" -> "library", not
    "questions" -> "queryset")."""
    return letter_distance(wrong, right) <= max(2, 2 * len(wrong) // 5)


# Occurrences in the list's 1.6 billion words of subtitles: under RARE, a word is as likely a
# slip for a common one ("som" for "some", "beng" for "being"); from COMMON on, a word is common.
RARE, COMMON = 1_000, 100_000


def frequency(word: str) -> int:
    """Occurrences in the list's subtitles (0 for a word it lacks)."""
    return _frequencies()[word.lower().replace("’", "'")]


@lru_cache(maxsize=1)
def _frequencies():
    from spellchecker import SpellChecker

    return SpellChecker(language="en").word_frequency


def is_rare(word: str) -> bool:
    return frequency(word) < RARE


def is_common(word: str) -> bool:
    return frequency(word) >= COMMON
