"""hitnb's own work never makes Python forget which warnings a program has shown.

Leaving ``warnings.catch_warnings()`` resets every module's record of the warnings already
shown, so a warning shown once is shown again by its next trigger: a notebook showed
python-control's warnings in later cells too, as soon as hitnb had stored a closure."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import warnings
    import matplotlib
    import numpy as np

    from hitnb.core import ambient
    from hitnb.hashing.values import hash_value
    from hitnb.store.codecs import dill_dumps

    def careful():
        warnings.warn("careful")

    careful()
    hash_value([np.add, np.float64(1.5)])  # library objects, looked up by their names
    k = 3
    dill_dumps(lambda x: x * k)  # a closure: dill pickles its code
    ambient._set_rc_params({"lines.linewidth": 3.0})
    careful()
    """
)


def test_storing_hashing_and_restoring_settings_keep_the_warnings_shown_once():
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", PROGRAM], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("UserWarning: careful") == 1, done.stderr
