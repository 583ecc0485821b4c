"""Import of comparisons: JSONL (responses or TRL's chosen/rejected) and CSV; a bad file is
refused with its line and problem, and nothing is created."""

import json

import pytest

from tests.preferences.helpers import project_with
from webapp.preferences.errors import PreferenceError, PreferenceForbidden
from webapp.preferences.models import Comparison, ComparisonOutput
from webapp.preferences.transfer import comparisons_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    project, (admin, annotator) = project_with("admin", "annotator")
    return project, admin, annotator


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def test_jsonl_with_responses_and_trl_rows(setup):
    project, admin, _ = setup
    data = jsonl(
        {"prompt": "Say hi", "responses": ["hi", {"text": "hello", "source": "v2"}, "hey"], "topic": "greeting"},
        "",
        {"prompt": "Add", "chosen": "2", "rejected": "3", "chosen_source": "human"},
    )
    created = comparisons_import(project=project, user=admin, filename="set.jsonl", data=data)
    assert len(created) == 2
    first, second = Comparison.objects.filter(project=project).order_by("pk")
    assert [(o.text, o.source) for o in first.outputs.order_by("index")] == [("hi", ""), ("hello", "v2"), ("hey", "")]
    assert first.meta == {"topic": "greeting"} and first.origin == "import" and not first.is_gold
    texts = [o.text for o in second.outputs.order_by("index")]
    assert sorted(texts) == ["2", "3"]
    # meta.reference_choice records where `chosen` ended up after the shuffle
    assert texts[second.meta["reference_choice"]] == "2"
    assert second.outputs.get(text="2").source == "human"


def test_trl_rows_as_gold_take_chosen_as_the_answer(setup):
    project, admin, _ = setup
    rows = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(8)]
    comparisons_import(project=project, user=admin, filename="gold.jsonl", data=jsonl(*rows), as_gold=True)
    for c in Comparison.objects.filter(project=project):
        assert c.is_gold
        good = c.outputs.get(text__startswith="good").index
        assert c.gold_choice == ("a_better" if good == 0 else "b_better")
    # the shuffle puts chosen on both sides across rows
    assert {c.meta["reference_choice"] for c in Comparison.objects.all()} == {0, 1}


def test_csv_with_three_responses_and_optional_trailing_ones(setup):
    project, admin, _ = setup
    data = 'prompt,response_a,response_b,response_c,source_a\n"Hi, there",one,two,three,m1\nSecond,x,y,,m2\n'.encode(
        "utf-8-sig"
    )
    comparisons_import(project=project, user=admin, filename="set.CSV", data=data)
    first, second = Comparison.objects.order_by("pk")
    assert first.prompt == "Hi, there"
    assert list(first.outputs.values_list("text", flat=True)) == ["one", "two", "three"]
    assert list(second.outputs.values_list("text", flat=True)) == ["x", "y"]
    assert first.outputs.get(index=0).source == "m1"


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("bad.jsonl", jsonl({"prompt": "a", "responses": ["x", "y"]}, "{not json"), "line 2: not valid JSON"),
        (
            "bad.jsonl",
            jsonl({"prompt": "a", "responses": ["only one"]}),
            "line 1: a comparison needs 2 to 10 outputs; found 1",
        ),
        (
            "bad.jsonl",
            jsonl({"prompt": "a", "responses": ["x", "y"]}, {"prompt": "b", "responses": ["same", "same"]}),
            "line 2: outputs A and B are the same text",
        ),
        ("bad.jsonl", jsonl({"responses": ["x", "y"]}), "line 1: 'prompt' is missing"),
        ("bad.jsonl", jsonl({"prompt": "a", "chosen": "x"}), "line 1: 'rejected' is missing"),
        ("bad.jsonl", jsonl({"prompt": "a", "answer": "x"}), "line 1: needs 'responses'"),
        (
            "bad.jsonl",
            jsonl({"prompt": "a", "responses": ["x", "y"], "gold_choice": "a_best"}),
            "line 1: unknown choice 'a_best'",
        ),
        ("bad.jsonl", jsonl({"prompt": " ", "responses": ["x", "y"]}), "line 1: the prompt is empty"),
        ("bad.jsonl", jsonl([1, 2]), "line 1: expected a JSON object"),
        (
            "bad.csv",
            b"prompt,response_a\nx,y\n",
            "line 1: the header needs the columns prompt, response_a and response_b; response_b missing",
        ),
        ("bad.csv", b"prompt,response_a,response_b\nok,x,y\nbad,x,\n", "line 3: output B is empty"),
        (
            "bad.csv",
            b"prompt,response_a,response_b,response_c,response_d\nbad,x,y,,z\n",
            "line 2: response_c is empty but a later",
        ),
        ("bad.csv", b"prompt,response_a,response_b\nbad,x\n", "line 2: 2 fields where the header has 3"),
        ("bad.csv", "prompt,response_a,response_b\nb\xe4d,x,y\n".encode("latin-1"), "bad.csv is not UTF-8 text"),
        ("bad.txt", b"prompt,response_a,response_b\n", "use a .jsonl or .csv file"),
        ("empty.jsonl", b"\n\n", "has no comparisons in it"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_creates_nothing(setup, filename, data, message):
    project, admin, _ = setup
    with pytest.raises(PreferenceError) as caught:
        comparisons_import(project=project, user=admin, filename=filename, data=data)
    assert message in str(caught.value)
    assert "nothing was imported" in str(caught.value).lower()
    assert not Comparison.objects.exists() and not ComparisonOutput.objects.exists()


def test_problems_are_listed_up_to_five(setup):
    project, admin, _ = setup
    data = jsonl(*[{"prompt": "p", "responses": ["x"]} for _ in range(7)])
    with pytest.raises(PreferenceError) as caught:
        comparisons_import(project=project, user=admin, filename="many.jsonl", data=data)
    assert "line 5:" in str(caught.value) and "line 6:" not in str(caught.value) and "(and 2 more)" in str(caught.value)


def test_only_admins_import(setup):
    project, _, annotator = setup
    with pytest.raises(PreferenceForbidden):
        comparisons_import(
            project=project, user=annotator, filename="x.jsonl", data=jsonl({"prompt": "a", "responses": ["x", "y"]})
        )
    assert not Comparison.objects.exists()
