"""What the one run engine gives ``%%memo`` cells by construction, checked in real kernels:
the per-key lock across kernels, eviction under ``max_size`` and live experiment tables."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel
from nbhelpers import KernelSession

from hitnb.store.local import open_store

pytestmark = pytest.mark.slow

SLOW_CELL = (
    "%%memo\n"
    "import os, time\n"
    "with open('computed.log', 'a') as fh:\n"
    "    fh.write(f'{ROUND} {os.getpid()}\\n')\n"
    "time.sleep(1.5)\n"
    "answer = ROUND * 7\n"
    "print('answer', answer)"
)


def _execute(client, code: str, outputs: list[str]) -> None:
    """Run ``code`` in a kernel, collecting what it printed; raise if the cell failed."""

    def keep(message: dict) -> None:
        if message["msg_type"] == "stream":
            outputs.append(message["content"]["text"])

    reply = client.execute_interactive(code, timeout=120, output_hook=keep)
    assert reply["content"]["status"] == "ok", reply["content"]


def test_two_kernels_running_one_cell_at_once_compute_it_once(tmp_path: Path, isolated_store):
    env = {**os.environ, "HITNB_STORE": str(isolated_store)}
    kernels = [start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env) for _ in "ab"]
    try:
        for _, client in kernels:
            _execute(client, "%load_ext hitnb", [])
        printed: dict[int, list[str]] = {}
        for round_ in range(1, 4):
            for _, client in kernels:
                _execute(client, f"ROUND = {round_}", [])
            outputs: list[list[str]] = [[], []]
            threads = [
                threading.Thread(target=_execute, args=(client, SLOW_CELL, out))
                for (_, client), out in zip(kernels, outputs, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            printed[round_] = ["".join(out) for out in outputs]
        computed = (tmp_path / "computed.log").read_text().split("\n")
        rounds = [line.split()[0] for line in computed if line]
        assert rounds == ["1", "2", "3"], "each round must run the cell in one kernel only"
        for round_, texts in printed.items():
            for text in texts:  # the kernel that waited shows what the other one printed
                assert f"answer {round_ * 7}" in text
        values = []
        for _, client in kernels:
            out: list[str] = []
            _execute(client, "print(answer)", out)
            values.append("".join(out).strip())
        assert values == ["21", "21"]
    finally:
        for manager, client in kernels:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def test_a_store_filled_only_by_cells_stays_under_max_size(tmp_path: Path, isolated_store):
    limit = 1_000_000
    env = {"HITNB_STORE": str(isolated_store), "HITNB_MAX_SIZE": "1MB"}
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("%load_ext hitnb")
        for i in range(40):
            kernel.run(f"%%memo -q\nimport os\nblob_{i} = os.urandom(200_000)")
        assert kernel.run("print(len(blob_39))").strip() == "200000"
    store = open_store(isolated_store)
    listed = store.listing()
    total = sum(row.size for row in listed)
    assert 0 < total <= limit, f"{total} bytes kept in {len(listed)} entries; the limit is 1 MB"
    assert len(listed) < 40


def test_a_cell_experiment_appears_in_an_open_table_without_refreshing(
    tmp_path: Path, isolated_store
):
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run("import hitnb, time\ntable = hitnb.table('sweep')\ntime.sleep(0.6)")
        before = kernel.run("print(len(table.model.rows))")
        kernel.run(
            "%%memo --experiment -n sweep\n"
            "lr = 0.1\n"
            "hitnb.log('loss', 0.5, step=0)\n"
            "hitnb.log('loss', 0.25, step=1)\n"
            "{'accuracy': 0.9}"
        )
        after = kernel.run(
            "import json\n"
            "print(json.dumps([table.model.metric_columns, "
            "[(r['status'], r.get('accuracy')) for r in table.model.rows]]))"
        )
    assert before.strip() == "0"
    metrics, rows = json.loads(after)
    assert rows == [["ok", 0.9]]
    assert set(metrics) >= {"accuracy", "loss"}
