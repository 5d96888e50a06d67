"""Noise, using diffprivlib's mechanisms, chosen so that floating point does not undo the guarantee.

* Counts (and histograms, grouped counts): ``diffprivlib.mechanisms.Geometric``, the two-sided
  geometric (discrete Laplace) mechanism. Its output is an integer, so Mironov's attack on the
  textbook Laplace mechanism (the set of floats ``f + noise`` can reach depends on ``f``) has
  nothing to read: the support is every integer whatever the true count.
* Sums (and the numerators of means and variances): ``diffprivlib.mechanisms.Snapping`` (Mironov
  2012): the value is clamped to declared bounds, Laplace noise is sampled from a uniform that
  covers every float in (0, 1), and the result is rounded to a power-of-two grid and clamped
  again. The Laplace scale uses an "effective ε" slightly below the requested one, so that with
  the rounding the guarantee is the requested ε. Without the optional ``crlibm`` package diffprivlib
  falls back to ``numpy.log``, which is faithfully but not always correctly rounded: one ulp of
  the log is far inside the snapping grid.
* Quantiles: ``diffprivlib.mechanisms.Exponential`` over a data-independent grid of candidates
  spanning the declared bounds; the answer is one of the grid values.

With ``random_state=None`` diffprivlib draws from ``secrets.SystemRandom``; an integer seed
(tests only) gives numpy's ``RandomState``, which is not cryptographically secure.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from diffprivlib.mechanisms import Exponential, Geometric, Snapping

#: Two-sided tail probability of the reported intervals.
ALPHA = 0.05


@dataclass(frozen=True)
class Released:
    """Released values (one per cell) and what is known about the noise each one carries."""

    values: list[float]
    std: float
    ci95: float
    mechanism: str


def geometric_std(epsilon: float, sensitivity: int) -> float:
    """Standard deviation of two-sided geometric noise with ratio exp(-ε/Δ)."""
    ratio = math.exp(-epsilon / sensitivity)
    return math.sqrt(2.0 * ratio) / (1.0 - ratio)


def geometric_half_width(epsilon: float, sensitivity: int, alpha: float = ALPHA) -> int:
    """Smallest integer t with P(|noise| > t) <= alpha, since P(|Z| > t) = 2 r^(t+1) / (1 + r)."""
    ratio = math.exp(-epsilon / sensitivity)
    bound = math.log(alpha * (1.0 + ratio) / 2.0) / math.log(ratio) - 1.0
    return max(0, math.ceil(bound - 1e-9))


def noisy_counts(
    values: list[int],
    *,
    epsilon: float,
    sensitivity: int,
    alpha: float = ALPHA,
    random_state: Any = None,
) -> Released:
    """Counts with two-sided geometric noise; ``sensitivity`` is the rows one person may add.

    Used for a single count or for disjoint cells (parallel composition: one person's rows fall
    in at most ``sensitivity`` cells in total, so the L1 change over all cells is at most
    ``sensitivity``).
    """
    mech = Geometric(epsilon=epsilon, sensitivity=sensitivity, random_state=random_state)
    return Released(
        values=[mech.randomise(int(v)) for v in values],
        std=geometric_std(epsilon, sensitivity),
        ci95=float(geometric_half_width(epsilon, sensitivity, alpha)),
        mechanism="geometric",
    )


@functools.lru_cache(maxsize=1024)
def snapping_error(
    epsilon: float, sensitivity: float, lower: float, upper: float, alpha: float = ALPHA
) -> tuple[float, float]:
    """(standard deviation, half-width at level 1 - alpha) of Snapping's error inside its bounds.

    The noise is Laplace with scale Δ/ε_eff, then rounded to a multiple of Λ·Δ (Λ the smallest
    power of two at least 1/ε_eff), which adds at most Λ·Δ/2.
    """
    mech = Snapping(epsilon=epsilon, sensitivity=sensitivity, lower=lower, upper=upper)
    scale = 1.0 / mech.effective_epsilon()
    grid = Snapping._get_nearest_power_of_2(scale) * sensitivity
    laplace_scale = scale * sensitivity
    std = math.sqrt(2.0 * laplace_scale**2 + grid**2 / 12.0)
    return float(std), float(laplace_scale * math.log(1.0 / alpha) + grid / 2.0)


def noisy_sums(
    values: list[float],
    *,
    epsilon: float,
    sensitivity: float,
    lower: float,
    upper: float,
    alpha: float = ALPHA,
    random_state: Any = None,
) -> Released:
    """Real-valued aggregates in [lower, upper] with the Snapping mechanism (L1 sensitivity Δ)."""
    mech = Snapping(
        epsilon=epsilon,
        sensitivity=sensitivity,
        lower=lower,
        upper=upper,
        random_state=random_state,
    )
    std, half = snapping_error(epsilon, sensitivity, lower, upper, alpha)
    return Released(
        values=[float(mech.randomise(float(v))) for v in values],
        std=std,
        ci95=half,
        mechanism="snapping",
    )


def exponential_choice(
    utility: list[float],
    candidates: list[float],
    *,
    epsilon: float,
    sensitivity: float,
    random_state: Any = None,
) -> Released:
    """Pick one candidate by the exponential mechanism; ``ci95`` bounds the loss of utility.

    With probability at least 95% the chosen utility is within 2Δ/ε·(ln|C| + ln 20) of the best.
    """
    mech = Exponential(
        epsilon=epsilon,
        sensitivity=sensitivity,
        utility=utility,
        candidates=candidates,
        random_state=random_state,
    )
    loss = 2.0 * sensitivity / epsilon * (math.log(len(candidates)) + math.log(1.0 / ALPHA))
    return Released(
        values=[float(mech.randomise())],
        std=loss / 1.96,
        ci95=loss,
        mechanism="exponential",
    )
