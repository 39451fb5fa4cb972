"""What a run did to a list state, done again on the list a hit finds."""

from __future__ import annotations

from hitnb.core.list_changes import ListChange, change, made


def test_entries_put_first_and_last_and_taken_out_are_done_again_on_another_list():
    done = change(["a", "b", "c"], ["x", "a", "c", "y"])
    assert done == ListChange(first=("x",), last=("y",), gone=("b",))
    assert made(["new", "a", "b", "c"], done) == ["x", "new", "a", "c", "y"]


def test_an_entry_put_first_again_moves_rather_than_repeats():
    """``filterwarnings`` takes an equal filter out before it puts it first: a run that did
    so is a move, not a reorder kept as the whole list (which dropped the filters a session
    added since)."""
    done = change(["U", "F", "d"], ["F", "U", "d"])
    assert done == ListChange(first=("F",), last=(), gone=())
    assert made(["E", "F", "U", "d"], done) == ["F", "E", "U", "d"]


def test_an_entry_put_last_that_is_there_already_stays_where_it_is():
    """``filterwarnings(..., append=True)`` leaves a filter already in the list in place."""
    done = ListChange(first=(), last=("X",), gone=())
    assert made(["X", "ipython", "d"], done) == ["X", "ipython", "d"]
    assert made(["ipython", "d"], done) == ["ipython", "d", "X"]


def test_a_list_whose_every_entry_was_replaced_is_kept_whole():
    """``resetwarnings()``, ``sys.path[:] = [...]``: what the run left is the whole list,
    whatever a session added since."""
    assert change(["a", "b"], []) is None
    assert change(["a"], ["x"]) is None
    assert change([], ["a"]) is not None


def test_a_hit_of_a_run_that_put_a_folder_first_on_sys_path_keeps_the_folders_added_since(
    tmp_path,
):
    import sys

    import hitnb

    @hitnb.memo
    def use_folder(name):
        sys.path.insert(0, name)
        return name

    saved = list(sys.path)
    try:
        use_folder(str(tmp_path / "first"))
        sys.path[:] = saved
        sys.path.append(str(tmp_path / "added since"))
        use_folder(str(tmp_path / "first"))  # a hit
        assert sys.path[0] == str(tmp_path / "first")
        assert str(tmp_path / "added since") in sys.path
    finally:
        sys.path[:] = saved
