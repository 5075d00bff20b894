"""The one error the forecasting core raises for bad input, in English and Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ForecastInputError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which series (or ``None`` for the whole frame), what, and the fix."""

    series: object | None
    en: str
    zh: str

    def __str__(self) -> str:
        where_en = f"series {self.series!r}: " if self.series is not None else ""
        where_zh = f"序列 {self.series!r}：" if self.series is not None else ""
        return f"{where_en}{self.en} / {where_zh}{self.zh}"


class ForecastInputError(ValueError):
    """Input the forecaster cannot use; ``problems`` lists every problem found, each naming its series."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"bad forecasting input ({len(self.problems)} problem(s)) / 预测输入有误:\n{lines}")

    @property
    def series(self) -> list[object]:
        """The series named in the problems, in order, without repeats."""
        seen: list[object] = []
        for p in self.problems:
            if p.series is not None and p.series not in seen:
                seen.append(p.series)
        return seen
