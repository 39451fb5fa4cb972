"""Which expressions of a cell show their value, as IPython's ``ast_node_interactivity`` asks.

By default IPython shows the value of a cell's last expression. Many notebooks start with
``InteractiveShell.ast_node_interactivity = "all"``, after which every top-level
expression shows its value, or ``"last_expr_or_assign"``, which also shows the value a last
assignment binds. hitnb runs a memoized cell's code itself, to record what it shows, so
:func:`split` splits the code as IPython's ``run_ast_nodes`` does: statements run plainly,
statements run interactively (compiled in ``single`` mode, where the value of each
expression statement goes to the display hook), and the expression whose value is the
cell's result, which a hit restores and shows.

The setting is an ambient state of cells too (see :mod:`hitnb.core.ambient`): a hit of a
cell that set it (``get_ipython().ast_node_interactivity = "all"``) sets it again.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from hitnb.core.ambient import StateProvider, register_state

DEFAULT = "last_expr"
"""IPython's default: only a last expression statement shows its value."""


@dataclass(frozen=True)
class Split:
    """A cell's top-level statements, split by how they run."""

    plain: list[ast.stmt]
    """Run as a module: nothing they evaluate is shown."""
    interactive: list[ast.stmt]
    """Run one by one in ``single`` mode: each expression statement in them (nested ones
    too, as in a ``for`` loop) shows its value."""
    result: ast.expr | None
    """The last expression, whose value is the cell's result; None when it shows none."""


def split(body: list[ast.stmt], interactivity: str) -> Split:
    """``body`` split as IPython runs it with ``ast_node_interactivity = interactivity``
    (an unknown value is taken as the default, where IPython would refuse the cell)."""
    nodes = list(body)
    if not nodes:
        return Split([], [], None)
    if interactivity == "last_expr_or_assign":
        name = _assigned_name(nodes[-1])
        if name is not None:
            shown = ast.Expr(ast.Name(name, ast.Load()))
            nodes.append(ast.fix_missing_locations(ast.copy_location(shown, nodes[-1])))
        interactivity = DEFAULT
    last = nodes[-1] if isinstance(nodes[-1], ast.Expr) else None
    before = nodes[:-1] if last is not None else nodes
    result = last.value if last is not None else None
    if interactivity == "none":
        return Split(nodes, [], None)
    if interactivity == "all":
        return Split([], before, result)
    if interactivity == "last" and last is None:
        return Split(nodes[:-1], nodes[-1:], None)
    return Split(before, [], result)


def _assigned_name(node: ast.stmt) -> str | None:
    """The name a last assignment binds, which ``last_expr_or_assign`` shows (``x = 1``,
    ``x += 1``, ``x: int = 1``; not ``x = y = 1`` nor ``a, b = t``)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target: ast.expr | None = node.targets[0]
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        target = node.target
    else:
        target = None
    return target.id if isinstance(target, ast.Name) else None


def current(shell: Any) -> str:
    """The shell's setting now."""
    value = getattr(shell, "ast_node_interactivity", DEFAULT)
    return value if isinstance(value, str) else DEFAULT


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _get() -> str:
    return current(_shell())


def _set(value: str) -> None:
    shell = _shell()
    if shell is not None:
        shell.ast_node_interactivity = value


register_state(StateProvider("IPython's ast_node_interactivity", "IPython", _get, _set,
                             cells_only=True))  # fmt: skip
