"""A measured figure: mailbag's samples next to its reference's samples from the same run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Spread:
    """Min / median / max of some samples."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        return cls(min(samples), statistics.median(samples), max(samples))

    def show(self, digits: int) -> str:
        return f"{self.low:.{digits}f} / {self.median:.{digits}f} / {self.high:.{digits}f}"


@dataclass
class Figure:
    """One row of the table. ``goal`` states the target ratio of mailbag's median to the reference's."""

    size: int
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    reference: str = ""
    reference_samples: list[float] = field(default_factory=list)
    goal: str = ""
    digits: int = 2

    @property
    def ratio(self) -> float | None:
        if not self.samples or not self.reference_samples:
            return None
        ref = statistics.median(self.reference_samples)
        return statistics.median(self.samples) / ref if ref else None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"size": self.size, "figure": self.name, "unit": self.unit,
                                "samples": [round(s, 4) for s in self.samples], "goal": self.goal}
        if self.samples:
            spread = Spread.of(self.samples)
            data |= {"min": spread.low, "median": spread.median, "max": spread.high}
        if self.reference:
            data["reference"] = self.reference
            data["reference_samples"] = [round(s, 4) for s in self.reference_samples]
            if self.reference_samples:
                data["reference_median"] = statistics.median(self.reference_samples)
        if self.ratio is not None:
            data["ratio"] = round(self.ratio, 3)
        return data
