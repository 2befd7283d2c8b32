"""CSV cells a spreadsheet shows as text instead of running.

Excel and LibreOffice treat a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula, so a question like ``=HYPERLINK("http://…")`` in
an exported CSV would become a live link or worse (OWASP "CSV injection"). Such text gets a
leading apostrophe, which spreadsheets show as text; numbers are written as they are.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value``, with an apostrophe in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
