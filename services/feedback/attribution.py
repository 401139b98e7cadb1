"""Attribution models: how much of a won deal's amount each touchpoint earns.

A deal's touchpoints are its counted usage events inside the opportunity's window,
ordered by (time, asset_id). Every model returns one weight per touchpoint, summing to
1; an asset's attributed revenue is the deal amount times the sum of its touchpoints'
weights. Exact definitions and edge cases are in docs/feedback.md; in short:

- first_touch / last_touch: 100% to the first / last touchpoint;
- linear: 1/n each;
- time_decay: weight 2^(-age/half_life), age = close time - touch time (clamped at 0),
  normalised;
- u_shaped: roles "first" 40%, "last" 40%, the middle touchpoints share 20%;
- w_shaped: roles "first" 30%, "creation" (the touchpoint nearest the opportunity's
  creation; earliest on ties) 30%, "last" 30%, the rest share 10%.

Position models are defined by *roles*: a touchpoint holding several roles adds their
shares; when no touchpoint is left for the "rest" share, the weights are normalised
to 1. That single rule yields every edge case: one touchpoint gets 100% everywhere,
two get U 50/50, W 2/3-1/3 (creation nearest the first) or 1/3-2/3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "u_shaped", "w_shaped")
DEFAULT_HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True)
class Touchpoint:
    asset_id: str
    at: datetime


def ordered(touchpoints: Sequence[Touchpoint]) -> list[Touchpoint]:
    """The deterministic order every model uses: time, then asset id."""
    return sorted(touchpoints, key=lambda t: (t.at, t.asset_id))


def first_touch(n: int) -> list[float]:
    return [1.0 if i == 0 else 0.0 for i in range(n)]


def last_touch(n: int) -> list[float]:
    return [1.0 if i == n - 1 else 0.0 for i in range(n)]


def linear(n: int) -> list[float]:
    return [1.0 / n] * n if n else []


def _roles(n: int, role_shares: list[tuple[int, float]], rest_share: float) -> list[float]:
    """Add each role's share to its touchpoint, spread `rest_share` over the others, normalise."""
    if n == 0:
        return []
    weights = [0.0] * n
    holders = set()
    for position, share in role_shares:
        weights[position] += share
        holders.add(position)
    rest = [i for i in range(n) if i not in holders]
    if rest:
        for i in rest:
            weights[i] += rest_share / len(rest)
    total = sum(weights)
    return [w / total for w in weights]


def u_shaped(n: int) -> list[float]:
    return _roles(n, [(0, 0.4), (n - 1, 0.4)], 0.2) if n else []


def creation_position(times: Sequence[datetime], created_at: datetime) -> int:
    """Index of the touchpoint nearest the opportunity's creation (earliest on ties)."""
    best, best_gap = 0, None
    for i, at in enumerate(times):
        gap = abs((at - created_at).total_seconds())
        if best_gap is None or gap < best_gap:
            best, best_gap = i, gap
    return best


def w_shaped(n: int, creation: int) -> list[float]:
    return _roles(n, [(0, 0.3), (creation, 0.3), (n - 1, 0.3)], 0.1) if n else []


def time_decay(times: Sequence[datetime], closed_at: datetime, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> list[float]:
    if not times:
        return []
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    half_life_s = half_life_days * 86400.0
    raw = [2.0 ** (-max(0.0, (closed_at - at).total_seconds()) / half_life_s) for at in times]
    total = sum(raw)
    return [w / total for w in raw]


def weights(model: str, touchpoints: Sequence[Touchpoint], created_at: datetime, closed_at: datetime,
            half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> list[float]:
    """Weights of `touchpoints` (already `ordered`) under `model`."""
    n = len(touchpoints)
    if model == "first_touch":
        return first_touch(n)
    if model == "last_touch":
        return last_touch(n)
    if model == "linear":
        return linear(n)
    if model == "time_decay":
        return time_decay([t.at for t in touchpoints], closed_at, half_life_days)
    if model == "u_shaped":
        return u_shaped(n)
    if model == "w_shaped":
        return w_shaped(n, creation_position([t.at for t in touchpoints], created_at))
    raise ValueError(f"unknown attribution model {model!r}")


def credit(touchpoints: Sequence[Touchpoint], amount: float, created_at: datetime, closed_at: datetime,
           half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
           models: Sequence[str] = MODELS) -> dict[str, dict[str, float]]:
    """{model: {asset_id: attributed amount}} for one won deal."""
    points = ordered(touchpoints)
    out: dict[str, dict[str, float]] = {}
    for model in models:
        per_asset: dict[str, float] = {}
        for point, w in zip(points, weights(model, points, created_at, closed_at, half_life_days)):
            if w <= 0:
                continue
            per_asset[point.asset_id] = per_asset.get(point.asset_id, 0.0) + w * amount
        out[model] = per_asset
    return out


class Accumulator:
    """Sums attributed revenue per (model, asset) while streaming over won deals."""

    def __init__(self, half_life_days: float = DEFAULT_HALF_LIFE_DAYS, models: Sequence[str] = MODELS) -> None:
        self.half_life_days = half_life_days
        self.models = tuple(models)
        self.revenue: dict[str, dict[str, float]] = {m: {} for m in self.models}
        self.deals = 0
        self.total_amount = 0.0

    def add(self, touchpoints: Sequence[Touchpoint], amount: float, created_at: datetime, closed_at: datetime) -> None:
        if not touchpoints:
            return
        self.deals += 1
        self.total_amount += amount
        for model, per_asset in credit(touchpoints, amount, created_at, closed_at, self.half_life_days, self.models).items():
            bucket = self.revenue[model]
            for asset, value in per_asset.items():
                bucket[asset] = bucket.get(asset, 0.0) + value

    def assets(self) -> set[str]:
        return {a for per_asset in self.revenue.values() for a in per_asset}




# ---- data-driven: Markov-chain removal effect --------------------------------------------------

def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    """Inverse of a small non-singular matrix (Gauss-Jordan with partial pivoting)."""
    size = len(matrix)
    rows = [list(row) + [1.0 if r == c else 0.0 for c in range(size)] for r, row in enumerate(matrix)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        pivot_row = rows[col]
        for r in range(size):
            factor = rows[r][col]
            if r != col and factor:
                row = rows[r]
                rows[r] = [v - factor * pv for v, pv in zip(row, pivot_row)]
    return [row[size:] for row in rows]


START, CONVERSION, NULL, OTHER = "(start)", "(conversion)", "(null)", "(other)"
MARKOV_MAX_STATES = 100  # assets modelled as their own state; the rest share one OTHER state


class MarkovPaths:
    """First-order Markov chain over closed deals' asset paths (Anderl et al., 2016).

    Each closed deal is a path start -> asset -> ... -> conversion (won) or null (lost),
    with consecutive repeats of one state collapsed. An asset's removal effect is the
    relative drop in the probability of reaching conversion from start when every
    transition into it is sent to null instead; won revenue is shared in proportion to
    the removal effects. Unlike the position models it learns from lost deals too: an
    asset as common in lost paths as in won ones earns little.

    Cost: one absorbing-chain solve per modelled state over at most (states + 4)^2
    transitions, so only `states` (the most frequent assets, chosen by the caller) are
    modelled individually; every other asset is the single OTHER state, which takes part
    in the chain but is not credited. None models every asset (exact; small data only).
    """

    def __init__(self, states: set[str] | None = None) -> None:
        self.states = states
        self.transitions: dict[str, dict[str, int]] = {}
        self.state_counts: dict[str, int] = {}

    def add(self, assets_in_order: Sequence[str], converted: bool) -> None:
        path = [START]
        for a in assets_in_order:
            if self.states is not None and a not in self.states:
                a = OTHER
            if a != path[-1]:
                path.append(a)
                self.state_counts[a] = self.state_counts.get(a, 0) + 1
        path.append(CONVERSION if converted else NULL)
        for src, dst in zip(path, path[1:]):
            row = self.transitions.setdefault(src, {})
            row[dst] = row.get(dst, 0) + 1

    def _probabilities(self) -> dict[str, list[tuple[str, float]]]:
        out = {}
        for src, row in self.transitions.items():
            total = sum(row.values())
            out[src] = [(dst, n / total) for dst, n in sorted(row.items())]
        return out

    @staticmethod
    def _conversion(probs: dict[str, list[tuple[str, float]]], removed: str | None,
                    tolerance: float = 1e-12, max_iterations: int = 10_000) -> float:
        """Probability of absorbing in CONVERSION from START (Gauss-Seidel on the absorbing chain)."""
        value: dict[str, float] = {s: 0.0 for s in probs}
        value[CONVERSION], value[NULL] = 1.0, 0.0
        if removed is not None:
            value[removed] = 0.0
        states = [s for s in probs if s != removed]
        for _ in range(max_iterations):
            delta = 0.0
            for s in states:
                new = sum(p * value.get(dst, 0.0) for dst, p in probs[s])
                delta = max(delta, abs(new - value[s]))
                value[s] = new
            if delta < tolerance:
                break
        return value.get(START, 0.0)

    def removal_effects(self) -> dict[str, float]:
        """{asset: removal effect in [0, 1]} for every modelled asset (OTHER excluded).

        One inversion of the absorbing chain's fundamental matrix N = (I - Q)^-1 gives
        every removal at once: converting with `a` removed is converting without ever
        visiting `a`, i.e. P(conv) - P(visit a) * P(conv from a), where
        P(visit a from start) = N[start][a] / N[a][a]. Solving one chain per removed
        state instead (`removal_effects_iterative`) costs a solve per asset.
        """
        probs = self._probabilities()
        transient = sorted(probs)
        if START not in probs:
            return {}
        index = {s: i for i, s in enumerate(transient)}
        size = len(transient)
        i_minus_q = [[(1.0 if r == c else 0.0) for c in range(size)] for r in range(size)]
        to_conversion = [0.0] * size
        for src, row in probs.items():
            for dst, p in row:
                if dst in index:
                    i_minus_q[index[src]][index[dst]] -= p
                elif dst == CONVERSION:
                    to_conversion[index[src]] += p
        fundamental = _inverse(i_minus_q)
        converts = [sum(n * r for n, r in zip(row, to_conversion)) for row in fundamental]
        start = index[START]
        base = converts[start]
        if base <= 0:
            return {}
        effects = {}
        for a in sorted(self.state_counts):
            if a == OTHER or a not in index:
                continue
            k = index[a]
            without = base - fundamental[start][k] / fundamental[k][k] * converts[k]
            effects[a] = max(0.0, 1.0 - without / base)
        return effects

    def removal_effects_iterative(self) -> dict[str, float]:
        """The same effects by one Gauss-Seidel solve per removed state (the reference for tests)."""
        probs = self._probabilities()
        base = self._conversion(probs, None)
        if base <= 0:
            return {}
        return {a: max(0.0, 1.0 - self._conversion(probs, a) / base) for a in sorted(self.state_counts) if a != OTHER}

    def credit(self, total_revenue: float) -> dict[str, float]:
        effects = self.removal_effects()
        total = sum(effects.values())
        if total <= 0:
            return {}
        return {a: total_revenue * e / total for a, e in effects.items() if e > 0}
