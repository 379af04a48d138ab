"""The run's observer reads moto's table while Lambda threads write it."""

from __future__ import annotations

from typing import Any

import pytest

from local_cloud.narration import scan


class _Table:
    """Pages of a table whose first read of each page meets a concurrent write, as moto's can."""

    def __init__(self, pages: list[dict[str, Any]], fail: str) -> None:
        self.pages, self.fail, self.calls = pages, fail, 0

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls % 2:
            raise RuntimeError(self.fail)
        start = kwargs.get("ExclusiveStartKey", {}).get("page", 0)
        return self.pages[start]


def test_a_page_read_during_a_write_is_read_again() -> None:
    pages: list[dict[str, Any]] = [
        {"Items": [{"pk": "a"}], "LastEvaluatedKey": {"page": 1}},
        {"Items": [{"pk": "b"}]},
    ]
    table = _Table(pages, "dictionary changed size during iteration")
    assert scan(table) == [{"pk": "a"}, {"pk": "b"}] and table.calls == 4


def test_any_other_error_is_raised() -> None:
    with pytest.raises(RuntimeError, match="something else"):
        scan(_Table([{"Items": []}], "something else"))
