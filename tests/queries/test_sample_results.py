"""Entering sample results at once: what changed in the table, what a filled-in file holds."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dashboard.queries import samples

# Three sampled tickets as `draw_items` gives them: A unchecked, B confirmed, C not confirmed.
ITEMS = pd.DataFrame(
    {
        "ticket_id": ["A", "B", "C"],
        "result": [None, "bestätigt", "nicht bestätigt"],
        "comment": [None, None, "Vermerk fehlt"],
    }
)


@pytest.mark.parametrize(
    ("entered", "recorded"),
    [
        # nothing typed: nothing to record
        ([("A", None, None), ("B", "bestätigt", None), ("C", "nicht bestätigt", "Vermerk fehlt")],
         []),
        # a new result; a changed result; a changed comment only
        ([("A", "bestätigt", ""), ("B", "nicht bestätigt", "doch nicht"),
          ("C", "nicht bestätigt", "Vermerk nachgeholt")],
         [("A", "bestätigt", ""), ("B", "nicht bestätigt", "doch nicht"),
          ("C", "nicht bestätigt", "Vermerk nachgeholt")]),
        # a comment without a result is no check; blanks around a value do not count
        ([("A", None, "später"), ("B", " bestätigt ", None)], []),
    ],
    ids=["unchanged", "new-and-changed", "comment-without-result"],
)  # fmt: skip
def test_result_changes(entered, recorded):
    frame = pd.DataFrame(entered, columns=["ticket_id", "result", "comment"])
    got = samples.result_changes(ITEMS, frame)
    assert [tuple(r) for r in got.itertuples(index=False)] == recorded


def _file(rows: list[dict], kind: str) -> tuple[str, bytes]:
    frame = pd.DataFrame(rows)
    if kind == "xlsx":
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False)
        return "stichprobe.xlsx", buffer.getvalue()
    return "stichprobe.csv", frame.to_csv(index=False, sep=";").encode("utf-8-sig")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_results_from_a_filled_in_download(kind):
    name, content = _file(
        [
            {"Ziehung": 7, "Nr.": 1, "Ticket-ID": "A", "Ergebnis": "bestätigt", "Kommentar": ""},
            {"Ziehung": 7, "Nr.": 2, "Ticket-ID": "B", "Ergebnis": "bestätigt", "Kommentar": ""},
            {"Ziehung": 7, "Nr.": 3, "Ticket-ID": "C", "Ergebnis": "ok", "Kommentar": ""},
            {"Ziehung": 7, "Nr.": 4, "Ticket-ID": "X", "Ergebnis": "bestätigt", "Kommentar": ""},
        ],
        kind,
    )
    frame = samples.read_results_file(name, content)
    changes, notes = samples.results_from_file(frame, ITEMS, draw_id=7)
    # A is new; B unchanged; C's "ok" is no result; X is not in the sample
    assert [tuple(r) for r in changes.itertuples(index=False)] == [("A", "bestätigt", "")]
    assert notes == [
        "Nicht in Stichprobe Nr. 7, übergangen: X.",
        "Ergebnis nicht „bestätigt“ oder „nicht bestätigt“, übergangen: C (ok).",
    ]


def test_a_file_of_another_draw_or_without_the_columns_is_refused():
    other = pd.DataFrame({"Ziehung": ["8"], "Ticket-ID": ["A"], "Ergebnis": ["bestätigt"]})
    with pytest.raises(ValueError, match=r"gehört zur Stichprobe Nr\. 8, nicht zu Nr\. 7"):
        samples.results_from_file(other, ITEMS, draw_id=7)
    with pytest.raises(ValueError, match="fehlt die Spalte Ergebnis"):
        samples.results_from_file(pd.DataFrame({"Ticket-ID": ["A"]}), ITEMS, draw_id=7)
