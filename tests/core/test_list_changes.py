"""What a run did to a list state, done again on the list a hit finds."""

from __future__ import annotations

from hitnb.core.list_changes import ListChange, change, made


def test_entries_put_first_and_last_and_taken_out_are_done_again_on_another_list():
    done = change(["a", "b", "c"], ["x", "a", "c", "y"])
    assert done == ListChange(first=("x",), last=("y",), gone=("b",))
    assert made(["new", "a", "b", "c"], done) == ["x", "new", "a", "c", "y"]


def test_an_entry_put_first_again_moves_rather_than_repeats():
    """``filterwarnings`` takes an equal filter out before it puts it first."""
    done = change(["a", "b"], ["b", "a"])
    assert done is None or made(["a", "b"], done) == ["b", "a"]
    assert made(["q", "x"], ListChange(("x",), (), ())) == ["x", "q"]


def test_a_change_that_says_more_is_none_and_the_whole_list_is_kept():
    assert change(["a", "b", "c"], ["a", "x", "c"]) is None  # put between
    assert change(["a", "b", "c"], ["c", "b", "a"]) is None  # reordered
    assert change(["a"], []) == ListChange((), (), ("a",))
    assert change([], ["a"]) == ListChange(("a",), (), ())


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
