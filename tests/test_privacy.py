"""Personal data in free text: found where it is, not found in dates, amounts and case numbers."""

from __future__ import annotations

import json

import pytest

from lagesrapport_xl.reader.privacy import find_personal_data, luhn_ok
from lagesrapport_xl.reader.read import read_report


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Deltagaren 811218-9876 har fått arbete", "personnummer"),
        ("pnr 8112189876.", "personnummer"),
        ("född 19811218-9876", "personnummer"),
        ("198112189876", "personnummer"),
        ("hundraåring 121212+1212", "personnummer"),
        ("samordningsnummer 701063-2391", "samordningsnummer"),
        ("mejla anna.andersson@nykoping.se om frågor", "e-post"),
        ("Ring 070-123 45 67", "telefonnummer"),
        ("mobil 0701234567", "telefonnummer"),
        ("tel +46 70 123 45 67", "telefonnummer"),
        ("tel +46 (0)70-123 45 67", "telefonnummer"),
        ("växel 08-123 456 78", "telefonnummer"),
        ("kontor 016-12 34 56", "telefonnummer"),
        ("Flen 0157-123 45", "telefonnummer"),
        ("0046 16 123 45 67", "telefonnummer"),
    ],
)
def test_personal_data_is_found(text, kind):
    hits = find_personal_data(text)
    assert [h.kind for h in hits] == [kind]
    hit = hits[0]
    assert "•" in hit.masked  # never shown in full in a message


@pytest.mark.parametrize(
    "text",
    [
        "Diarienummer 2020-0042 och 2021-0150",
        "Perioden 2021-06-01 – 2021-11-30, rapport 20211210",
        "Datum 10.12.2021, 10/12/2021 och 211210",
        "Budget 1 800 000 kr, utfall 254 000 kr, 1234567890 öre",
        "Coompanion Sörmland, org.nr 769606-6046",  # an association's organisation number
        "Nyköpings kommun 212000-0399",  # a municipality's organisation number
        "Aktiebolag 556677-8899",
        "811218-9875",  # fails the Luhn check
        "ca 40 rådgivningstillfällen, 8-12 deltagare, 12 kvinnor",
        "ungefär 0,5 tjänst",
        "år 2021-2022, vecka 45-50",
        "datum 01-02-2021 och 01 02 2021",
        "mejla till kansliet (se hemsidan)",
        "IBAN SE45 5000 0000 0583 9825 7466, bankgiro 5050-1055",
        "klockan 09.00-12.00 och 13:00–16:30",
    ],
)
def test_no_false_alarms_on_what_the_form_itself_contains(text):
    assert find_personal_data(text) == []


def test_luhn():
    assert luhn_ok("8112189876")
    assert not luhn_ok("8112189875")


def test_several_hits_in_one_answer_are_one_warning(fill, answers, spec):
    text = "Kontakt: anna@example.se, 070-123 45 67. Deltagare 811218-9876."
    path = fill({**answers, "participant_outcomes": text})
    result = read_report(path)
    assert result.ok  # a warning: the report is still accepted
    (issue,) = result.issues
    field = spec.fields["participant_outcomes"]
    assert (issue.code, issue.sheet, issue.cell) == ("personal_data", field.sheet, field.cell)
    for kind in ("personnummer", "e-postadress", "telefonnummer"):
        assert kind in issue.message
    assert "Ta bort personuppgifter" in issue.message
    published = json.dumps(result.to_json(), ensure_ascii=False)
    assert "9876" not in published.replace(text, "")  # only the answer itself contains it
    assert "anna@example.se" not in [i.value for i in result.issues]


def test_budget_comments_are_scanned_too(fill, answers, spec):
    result = read_report(fill({**answers, "budget_staff_comment": "Lön till 19811218-9876"}))
    (issue,) = result.issues
    assert issue.field == "budget_staff_comment"


def test_the_example_report_has_no_personal_data(fill, answers):
    assert read_report(fill(answers)).issues == []
