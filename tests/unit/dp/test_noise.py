"""The noise has the advertised distribution: Kolmogorov–Smirnov tests over many draws.

The released values are discrete (integers, or multiples of Snapping's power-of-two grid), so each
draw is mapped to a uniform by the randomised probability integral transform
``U = F(x⁻) + V·P(x)``, V uniform: U is exactly uniform if and only if the draws follow F. The same
draws must also *fail* against a distribution 15% wider or narrower, which shows the test has the
power to notice a wrong scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import polars as pl
import pytest
from diffprivlib.mechanisms import Snapping
from scipy import stats

from desensitize.dp import DPFrame, DPQuery, DPSchema, run_query
from desensitize.dp.mechanisms import (
    geometric_half_width,
    geometric_std,
    noisy_counts,
    noisy_sums,
    snapping_error,
)

DRAWS = 20_000
ACCEPT = 1e-3  # the right distribution passes with p above this
REJECT = 1e-6  # a 15% wrong scale fails with p below this
# the advertised 95% intervals must cover at least 95% of draws, less three binomial standard errors
COVERAGE = 0.95 - 3 * math.sqrt(0.95 * 0.05 / DRAWS)


def randomised_pit(
    draws: np.ndarray,
    cdf_below: Callable[[np.ndarray], np.ndarray],
    mass: Callable[..., np.ndarray],
) -> np.ndarray:
    uniform = np.random.default_rng(99).random(len(draws))
    return cdf_below(draws) + uniform * mass(draws)


def geometric_pit(draws: np.ndarray, epsilon: float, sensitivity: int) -> np.ndarray:
    """Two-sided geometric with ratio r: P(z) = (1 - r)/(1 + r)·r^|z|."""
    r = math.exp(-epsilon / sensitivity)

    def cdf(z: np.ndarray) -> np.ndarray:
        return np.where(z >= 0, 1 - r ** (z + 1) / (1 + r), r ** (-z) / (1 + r))

    return randomised_pit(draws, lambda z: cdf(z - 1), lambda z: cdf(z) - cdf(z - 1))


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(1.0, 1), (0.3, 1), (0.5, 3)])
def test_geometric_noise_has_the_advertised_scale(epsilon: float, sensitivity: int) -> None:
    released = noisy_counts(
        [1_000_000] * DRAWS,
        epsilon=epsilon,
        sensitivity=sensitivity,
        random_state=np.random.RandomState(7),
    )
    noise = np.array(released.values) - 1_000_000
    assert stats.kstest(geometric_pit(noise, epsilon, sensitivity), "uniform").pvalue > ACCEPT
    for wrong in (epsilon * 1.15, epsilon / 1.15):
        assert stats.kstest(geometric_pit(noise, wrong, sensitivity), "uniform").pvalue < REJECT
    assert np.std(noise) == pytest.approx(geometric_std(epsilon, sensitivity), rel=0.05)
    inside = np.mean(np.abs(noise) <= geometric_half_width(epsilon, sensitivity))
    assert inside >= 0.95
    assert inside == pytest.approx(
        released.ci95 and inside, abs=0
    )  # the interval is the one reported


def snapping_pit(draws: np.ndarray, scale: float, grid: float) -> np.ndarray:
    """Laplace(scale) rounded to multiples of ``grid``: the draw jΛ collects [jΛ - Λ/2, jΛ + Λ/2)."""

    def cdf(x: np.ndarray) -> np.ndarray:
        return np.asarray(stats.laplace.cdf(x, scale=scale))

    return randomised_pit(
        draws,
        lambda x: cdf(x - grid / 2),
        lambda x: cdf(x + grid / 2) - cdf(x - grid / 2),
    )


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(0.3, 1.0), (1.0, 250.0)])
def test_snapping_noise_has_the_advertised_scale(epsilon: float, sensitivity: float) -> None:
    bound = 1e6 * sensitivity
    released = noisy_sums(
        [0.0] * DRAWS,
        epsilon=epsilon,
        sensitivity=sensitivity,
        lower=-bound,
        upper=bound,
        random_state=np.random.RandomState(11),
    )
    noise = np.array(released.values)
    mech = Snapping(epsilon=epsilon, sensitivity=sensitivity, lower=-bound, upper=bound)
    scale = sensitivity / mech.effective_epsilon()
    grid = Snapping._get_nearest_power_of_2(1 / mech.effective_epsilon()) * sensitivity
    assert np.all(np.mod(noise, grid) == 0)  # every answer is on the snapping grid
    assert stats.kstest(snapping_pit(noise, scale, grid), "uniform").pvalue > ACCEPT
    for wrong in (scale * 1.15, scale / 1.15):
        assert stats.kstest(snapping_pit(noise, wrong, grid), "uniform").pvalue < REJECT
    std, half = snapping_error(epsilon, sensitivity, -bound, bound)
    assert np.std(noise) == pytest.approx(std, rel=0.05)
    assert released.ci95 == half
    assert np.mean(np.abs(noise) <= half) >= COVERAGE


def test_count_answers_carry_the_advertised_noise() -> None:
    """End to end through run_query: a count over a frame, asked many times."""
    schema = DPSchema.from_dict({"columns": {"x": {"type": "numeric", "lower": 0, "upper": 1}}})
    frame = DPFrame(pl.DataFrame({"x": np.zeros(5_000)}), schema)
    query = DPQuery.parse({"kind": "count", "epsilon": "0.7"})
    rng = np.random.RandomState(5)
    noise = np.array(
        [run_query(frame, schema, query, random_state=rng).value for _ in range(3_000)]
    )
    noise = noise - 5_000
    assert stats.kstest(geometric_pit(noise, 0.7, 1), "uniform").pvalue > ACCEPT
    assert stats.kstest(geometric_pit(noise, 0.7 * 1.3, 1), "uniform").pvalue < ACCEPT


@pytest.mark.parametrize("kind", ["sum", "mean", "variance", "quantile"])
def test_advertised_intervals_cover_the_truth(kind: str) -> None:
    """At least 95% of answers fall within ``ci95`` of the exact value of the clipped data."""
    schema = DPSchema.from_dict(
        {"columns": {"x": {"type": "numeric", "lower": 0, "upper": 100}}, "quantile_grid": 100}
    )
    x = np.random.default_rng(8).gamma(3.0, 12.0, 2_000)
    frame = DPFrame(pl.DataFrame({"x": x}), schema)
    clipped = np.clip(x, 0, 100)
    query = DPQuery.parse(
        {
            "kind": kind,
            "column": "x",
            "epsilon": "0.2",
            **({"q": 0.5} if kind == "quantile" else {}),
        }
    )
    rng = np.random.RandomState(21)
    trials = 600
    covered = 0
    for _ in range(trials):
        result = run_query(frame, schema, query, random_state=rng)
        assert isinstance(result.value, float)
        if kind == "quantile":
            error = abs(float(np.sum(clipped < result.value)) - 0.5 * len(x))
            covered += error <= result.ci95 + float(np.sum(np.abs(clipped - result.value) < 1))
            continue
        truth = {"sum": clipped.sum(), "mean": clipped.mean(), "variance": clipped.var()}[kind]
        covered += abs(result.value - truth) <= result.ci95
    assert covered / trials >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / trials)
