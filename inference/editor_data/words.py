"""Small closed word lists that the corruptions and phrase rules need to find their places."""

PREPOSITIONS = frozenset("of in to for on by with from at into over under about through between without within".split())
MODALS = frozenset("will can must should may might could would cannot".split())
DETERMINERS = frozenset("the this that these those a an each every its their his her our your my no".split())
SUBJECT_PRONOUNS = frozenset("it he she they we you".split())
FUNCTION_WORDS = (
    PREPOSITIONS
    | MODALS
    | DETERMINERS
    | SUBJECT_PRONOUNS
    | frozenset(
        "and or but not also only then than as is are was were be been being has have had does do did if when "
        "while which who whom whose what where there here so such some any all none both either neither more "
        "most less least very just even still already never always often".split()
    )
)

# Common verbs in their base form, as they appear in technical prose. A verb from this list after
# a modal or "to" marks an infinitive; with -s after a singular subject, a present-tense verb.
VERBS = frozenset(
    """
    accept access add allow apply assign assume avoid become break build cache call cancel capture cause change
    check choose clean clear close collect combine compare compile compute consider construct contain continue
    control convert copy count create decide decode define delete depend describe detect determine disable
    display do enable encode ensure evaluate execute exist expect extend extract fail fetch fill filter find
    finish fix follow force format generate get give handle help hold identify ignore implement import improve
    include increase indicate inherit initialize insert inspect install keep know load look maintain make manage
    match merge modify move need open override parse pass perform prevent print process produce provide raise
    read receive record reduce register remove render replace report represent require reset resolve restore
    retrieve return reuse run save search select send set show skip sort specify split start stop store support
    take test track try update use validate verify wait want work wrap write
    """.split()
)


def third_person(verb: str) -> str:
    """The -s form of a base verb: "return" -> "returns", "match" -> "matches", "try" -> "tries"."""
    if verb in ("do", "go"):
        return verb + "es"
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "o", "u"):
        return verb[:-1] + "ies"
    return verb + "s"


THIRD_PERSON = {third_person(v): v for v in VERBS if v not in ("do",)}
