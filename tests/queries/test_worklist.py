"""The repeat-case work list: the period's cases plus pending ones, grouped by person."""

from __future__ import annotations

import pandas as pd

from dashboard.queries import repeats


def _status(rows: list[tuple[str, str, int, bool]]) -> pd.DataFrame:
    """(worker, month 'YYYY-MM', streak, pending) as `merge_status` gives them."""
    return pd.DataFrame(
        {
            "worker": [r[0] for r in rows],
            "month": pd.to_datetime([f"{r[1]}-01" for r in rows]),
            "streak": [r[2] for r in rows],
            "pending": [r[3] for r in rows],
        }
    )


def test_period_plus_pending_grouped_by_person_longest_run_first():
    period = _status([("Bea", "2026-10", 1, True), ("Cem", "2026-10", 3, False),
                      ("Ada", "2026-10", 1, True)])  # fmt: skip
    everything = _status([
        ("Ada", "2026-08", 1, True),   # pending from August: joins
        ("Bea", "2026-09", 2, False),  # held: stays out
        ("Cem", "2026-09", 2, True),   # pending: joins Cem's group
        ("Cem", "2026-10", 3, False),  # already in the period: once only
        ("Dan", "2026-07", 2, True),   # pending, a run of 2
    ])  # fmt: skip
    got = repeats.worklist(period, everything)
    # Cem (run 3), Dan (2), then Ada and Bea (1) by name; newest month first within a person
    assert list(zip(got["worker"], got["month"].dt.strftime("%Y-%m"), strict=True)) == [
        ("Cem", "2026-10"), ("Cem", "2026-09"), ("Dan", "2026-07"),
        ("Ada", "2026-10"), ("Ada", "2026-08"), ("Bea", "2026-10"),
    ]  # fmt: skip


def test_nothing_pending_keeps_the_period():
    period = _status([("Ada", "2026-10", 1, False)])
    assert repeats.worklist(period, period.iloc[0:0])["worker"].tolist() == ["Ada"]
