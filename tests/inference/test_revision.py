"""revision_from_sentences without a model: edits stay inside sentences and rebuild the output."""

from hypothesis import given, settings
from hypothesis import strategies as st

from inference.diffing import apply_edits
from inference.editor import Generated
from inference.instructions import INTENTS
from inference.revision import clean_revision, model_input, revision_from_sentences
from inference.sentences import sentence_spans

words = st.sampled_from(["The", "cat", "sat", "café", "你好", "😀", "was", "were", "on", "mat", ",", ".", "!", "?"])
gaps = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n "])
texts = st.lists(st.tuples(words, gaps), max_size=25).map(lambda parts: "".join(w + g for w, g in parts))
revisions = st.lists(words, max_size=8).map(" ".join) | st.sampled_from(["", "  ", "a\nb", "\n x \n"])


@settings(max_examples=100, deadline=None)
@given(texts, st.data())
def test_all_edits_rebuild_the_model_output_and_stay_in_their_sentence(text: str, data: st.DataObject) -> None:
    spans = sentence_spans(text)
    generated = [Generated(data.draw(revisions), 0.5) for _ in spans]
    output, edits = revision_from_sentences(text, spans, generated, "clarity")
    assert apply_edits(text, edits) == output
    for e in edits:
        assert any(start <= e.start <= e.end <= end for start, end in spans)
        assert e.intent in INTENTS and e.score == 0.5 and e.kind is not None


def test_whitespace_between_sentences_is_untouched() -> None:
    text = "One two.  Three four!\n\nFive"
    spans = sentence_spans(text)
    revisions = [Generated("One, two.", 0.9), Generated("", 0.1), Generated("5", 0.8)]
    output, edits = revision_from_sentences(text, spans, revisions, "fluency")
    assert output == "One, two.  Three four!\n\n5"
    assert [(e.action, e.before, e.after, e.score) for e in edits] == [("A", "", ",", 0.9), ("R", "Five", "5", 0.8)]


def test_revision_newlines_collapse_into_spaces() -> None:
    assert clean_revision("  Line one\n\n  line two \n") == "Line one line two"
    text = "A b."
    output, _ = revision_from_sentences(text, sentence_spans(text), [Generated("A\nb.", 1.0)], "style")
    assert output == "A b."


def test_model_input_is_coedit_format() -> None:
    prompt = "Fix grammatical errors in this sentence"
    assert model_input(prompt, "me go.") == "Fix grammatical errors in this sentence: me go."
    assert model_input("Make it friendlier: ", "Go away.") == "Make it friendlier: Go away."


def test_a_line_break_inside_a_sentence_is_layout_not_an_edit():
    text = "Best regards,\nSam"
    spans = sentence_spans(text)
    output, edits = revision_from_sentences(text, spans, [Generated("Best regards, Sam", 0.9)], "fluency")
    assert edits == [] and output == text
    output, edits = revision_from_sentences(text, spans, [Generated("Kind regards, Sam", 0.9)], "fluency")
    assert [(e.before, e.after) for e in edits] == [("Best", "Kind")]
    assert output == "Kind regards,\nSam"


def test_a_respelt_word_and_the_period_added_after_it_are_two_edits() -> None:
    text = "Return an aware datetime ojbect"
    revision = Generated(text="Return an aware datetime object.", score=0.9)
    output, edits = revision_from_sentences(text, sentence_spans(text), [revision], "fluency")
    assert [(e.before, e.after) for e in edits] == [("ojbect", "object"), ("", ".")]
    assert output == "Return an aware datetime object."
    # A mark the word already had is no addition: the change stays one edit.
    text = "It was ojbect."
    _, edits = revision_from_sentences(text, sentence_spans(text), [Generated("It was object!", 0.9)], "fluency")
    assert [(e.before, e.after) for e in edits] == [("ojbect.", "object!")]
