"""Object graphs that real libraries build: a dict that is its own ``__dict__`` (statsmodels'
``Dataset``, scikit-learn's ``Bunch``) and graphs that share objects many times over (a
matplotlib figure, whose artists all point at their axes and figure)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from hitnb.hashing.values import hash_value


class Bunch(dict):  # type: ignore[type-arg]
    def __init__(self, **items: object) -> None:
        super().__init__(**items)
        self.__dict__ = self


def test_a_dict_that_is_its_own_dict_hashes_by_its_items():
    a, b = Bunch(x=np.arange(3), name="a"), Bunch(x=np.arange(3), name="a")
    assert hash_value(a) == hash_value(b)
    assert hash_value(a) != hash_value(Bunch(x=np.arange(4), name="a"))


def test_a_bunch_hashes_the_same_after_a_pickle_round_trip():
    """Unpickled, a Bunch's ``__dict__`` is a copy of its items rather than itself: the
    restored value must hash like the stored one, or every reader recomputes after a restart."""
    import pickle

    a = Bunch(x=np.arange(3), name="a")
    restored = pickle.loads(pickle.dumps(a))
    assert restored.__dict__ is not restored
    assert hash_value(restored) == hash_value(a)


def test_shared_objects_are_hashed_once_per_traversal():
    def figure(values: list[int]) -> object:
        fig, ax = plt.subplots()
        for i in range(20):  # every line shares the axes and the figure
            ax.plot([v + i for v in values])
        plt.close(fig)
        return fig

    assert hash_value(figure([1, 2, 3])) != hash_value(figure([1, 2, 4]))
