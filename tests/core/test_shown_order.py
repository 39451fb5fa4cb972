"""The order a kernel showed a cell's text in, from the times it was written."""

from __future__ import annotations

from hitnb.core.cells import as_shown


def names(events) -> list[str]:
    return [kind for kind, _, _ in as_shown(events)]


def test_text_written_in_one_instant_shows_stdout_first():
    assert names([("stderr", "warn\n", 0.01), ("stdout", "summary\n", 0.02)]) == [
        "stdout",
        "stderr",
    ]


def test_a_warning_well_before_the_summary_shows_first():
    assert names([("stderr", "warn\n", 0.01), ("stdout", "summary\n", 0.6)]) == [
        "stderr",
        "stdout",
    ]


def test_rich_output_sends_the_text_before_it():
    events = [("stderr", "a", 0.0), ("display", {"text/plain": "x"}, {}), ("stdout", "b", 0.01)]
    assert names(events) == ["stderr", "display", "stdout"]


def test_text_of_one_stream_is_sent_in_pieces_as_its_timer_runs_out():
    events = [
        ("stdout", "1", 0.0),
        ("stderr", "w", 0.1),
        ("stdout", "2", 0.25),  # stdout's first piece went at 0.2, before this
    ]
    assert [(k, t) for k, t, _ in as_shown(events)] == [
        ("stdout", "1"),
        ("stdout", "2"),
        ("stderr", "w"),
    ]


def test_records_without_times_keep_their_order():
    assert names([("stderr", "warn\n", None), ("stdout", "summary\n", None)]) == [
        "stderr",
        "stdout",
    ]


def test_a_timer_that_runs_out_before_the_cell_ends_sends_first():
    events = [("stdout", "1", 0.0), ("stderr", "w", 0.1), ("stdout", "2", 0.25)]
    assert [t for _, t, _ in as_shown(events, ended=1.0)] == ["1", "w", "2"]


def test_the_kernels_sends_when_seen_decide_over_the_times_of_the_writes():
    # written in one instant; a timer an earlier write set sent the warning 50 ms later
    events = [("stderr", "warn\n", 1.00), ("stdout", "summary\n", 1.001)]
    sends = [("stderr", 0.5), ("stderr", 1.05), ("stdout", 1.06)]
    assert [k for k, _, _ in as_shown(events, ended=1.1, sends=sends)] == ["stderr", "stdout"]
    assert [k for k, _, _ in as_shown(events, ended=1.1)] == ["stdout", "stderr"]


def test_text_the_kernel_was_not_seen_sending_goes_after_what_it_sent_stdout_first():
    events = [("stderr", "w", 0.0), ("stdout", "1", 0.01), ("stderr", "x", 0.3)]
    sends = [("stdout", 0.2)]  # stderr's text of 0.0 still buffered at the end
    assert [t for _, t, _ in as_shown(events, ended=0.4, sends=sends)] == ["1", "wx"]
    events.append(("display", {"text/plain": "fig"}, {}))
    assert [t for _, t, _ in as_shown(events, sends=sends)] == ["1", "wx", {"text/plain": "fig"}]
