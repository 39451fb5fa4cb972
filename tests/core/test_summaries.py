"""How inputs are pictured for tables and kept for exports: long values cheaply."""

from __future__ import annotations

from hitnb.core.arguments import summarize
from hitnb.core.recipe import MAX_LITERAL, literal


def test_a_long_list_is_summarized_by_its_length_and_first_items():
    records = [{"id": i, "name": "agent"} for i in range(500_000)]
    summary = summarize(records)
    assert summary["type"] == "list" and summary["len"] == 500_000
    assert summary["repr"].startswith("[{'id': 0, 'name': 'agent'}, {'id': 1,")
    assert len(summary["repr"]) <= 120
    assert summarize([1, 2]) == [1, 2]  # short ones item by item, as before


def test_a_literal_is_kept_up_to_its_limit_and_refused_past_it():
    assert literal([1.5, None, {"a": (1, "x")}]) == "[1.5, None, {'a': (1, 'x')}]"
    fits = list(range(MAX_LITERAL // 8))
    assert eval(literal(fits)) == fits
    assert literal(list(range(MAX_LITERAL))) is None
    assert literal([{"id": i, "name": "agent"} for i in range(500_000)]) is None
