"""KeyedTable: a DataTable whose rows are diffed by key (client order id, symbol, limit path).

A screen hands it the whole list of rows each frame with :meth:`KeyedTable.set_rows`. When the
keys are the same, in the same order, only the cells that changed are updated; otherwise the
rows are rebuilt and the cursor stays on the row it was on (by key). Cells are rich Text, so
numbers are right-aligned and states carry their style.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

Cells = tuple[Text, ...]
"""One row's cells, one per column."""


class KeyedTable(DataTable[Text]):
    """A row-cursor table of keyed rows.

    Args:
        columns: (key, caption) per column.
        cursor: show a row cursor (False for a read-only log).
        id: the widget id.
    """

    def __init__(
        self, columns: Sequence[tuple[str, str]], *, cursor: bool = True, id: str | None = None
    ) -> None:
        super().__init__(
            id=id,
            cursor_type="row" if cursor else "none",
            zebra_stripes=False,
            show_cursor=cursor,
        )
        self._columns = tuple(columns)
        self._keys: list[str] = []
        self._cells: dict[str, Cells] = {}

    def on_mount(self) -> None:
        """Lay out the columns once."""
        for key, caption in self._columns:
            self.add_column(caption, key=key)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self._keys or self.cursor_type == "none":
            return None
        row = min(max(self.cursor_row, 0), len(self._keys) - 1)
        return self._keys[row]

    def set_rows(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Show ``rows`` (key, cells): update changed cells, or rebuild when the keys changed."""
        keys = [key for key, _ in rows]
        if keys == self._keys:
            for key, cells in rows:
                old = self._cells[key]
                for (column, _), before, after in zip(self._columns, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after)
                self._cells[key] = cells
            return
        selected = self.selected_key
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        self._cells = dict(rows)
        if selected in self._cells:
            self.move_cursor(row=keys.index(selected), animate=False)


def cell(text: str, style: str | Style = "", *, right: bool = False) -> Text:
    """One cell: ``text`` in ``style``, right-aligned for numbers."""
    return Text(text, style=style, justify="right" if right else "left", no_wrap=True)
