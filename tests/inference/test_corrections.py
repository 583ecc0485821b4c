"""The writer's own respellings (inference.corrections): learned from their hand edits, proposed
where the word comes back."""

from inference.corrections import CorrectionEdit, CorrectionMemory, respellings_in, with_corrections
from inference.diffing import EditAction, apply_edits


def test_respellings_are_misspelt_words_made_close_english_words():
    before = "Set hte signal for all vaules. Their are many; the cat sat."
    after = "Set the signal for all values. There are many; a dog sat."
    # "Their" -> "There" and "cat" -> "dog" change one English word into another: not respellings.
    assert respellings_in(before, after) == [("hte", "the"), ("vaules", "values")]
    assert respellings_in("a qzxwv b", "a the b") == []  # too far apart to be what was meant


def test_a_correction_is_proposed_in_the_capitals_of_the_new_occurrence():
    memory = CorrectionMemory.learn([("Set hte signal", "Set the signal")])
    text = "Hte end of hte day, HTE."
    found = memory.corrections(text)
    assert [(c.before, c.after) for c in found] == [("Hte", "The"), ("hte", "the"), ("HTE", "THE")]
    assert apply_edits(text, found) == "The end of the day, THE."
    assert memory.respelling_of("vaules") is None


def test_the_respelling_made_most_often_wins_and_a_rejected_one_is_forgotten():
    typed = [("teh cat", "the cat"), ("teh dog", "tea dog"), ("teh end", "the end"), ("thq x", "the x")]
    memory = CorrectionMemory.learn(typed, rejected=[("thq", "the")])
    assert memory.respelling_of("teh") == ("the", 2)
    assert memory.respelling_of("thq") is None  # typed once, rejected once
    assert len(memory) == 1
    # Rejecting what was never learned changes nothing; accepting a respelling teaches it.
    assert len(CorrectionMemory.learn([], accepted=[("recieve ", "receive ")], rejected=[("x", "y")])) == 1


def test_a_correction_replaces_the_models_edit_of_its_word_and_yields_to_a_larger_one():
    text = "Set hte signal now"
    memory = CorrectionMemory.learn([("hte", "the")])
    corrections = memory.corrections(text)
    same_word = EditAction("R", 4, 7, "hte", "he")
    period = EditAction("A", 18, 18, "", ".")
    merged = with_corrections([same_word, period], corrections)
    assert merged == [corrections[0], period] and isinstance(merged[0], CorrectionEdit)
    larger = EditAction("R", 0, 14, "Set hte signal", "Send the signals")
    assert with_corrections([larger], corrections) == [larger]
