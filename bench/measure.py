"""One measured number of a benchmark and the floor an issue set for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    """A measurement; ``floor`` is the least acceptable value (or the most, if ``at_most``)."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    at_most: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        if self.floor is None:
            return True
        return self.value <= self.floor if self.at_most else self.value >= self.floor

    def __str__(self) -> str:
        bound = ""
        if self.floor is not None:
            sign = "<=" if self.at_most else ">="
            bound = f"  (floor {sign} {self.floor:g}: {'ok' if self.ok else 'MISSED'})"
        extra = f"  [{self.detail}]" if self.detail else ""
        return f"{self.name}: {self.value:,.3f} {self.unit}{bound}{extra}"
