#!/usr/bin/python3
"""Apache Otava's default change-point algorithm in numpy/scipy, as the speed reference for
bench/changepoint_bench.cpp (docs/performance.md §10).

Written for this project from Otava's documented method (docs/MATH.md and the description in
../shared/notes/regression_detection.md §1), not copied from its code:
  * E-divisive means with alpha = 1 inside each window: the candidate (tau, kappa) maximises
    Q = n m / (n + m) * E(X, Y), X = Z[s:tau], Y = Z[tau:kappa], with E the energy distance
    2/(n m) sum |X_i - Y_j| - 2/(n (n-1)) sum_{i<k} |X_i - X_k| - 2/(m (m-1)) sum_{j<k} |Y_j - Y_k|,
    all (tau, kappa) of an interval at once from 2-D prefix sums of the window's distance
    matrix, computed once per window (O(L^2), as Otava's calculator), and each interval's best
    split computed once;
  * significance by Student's pooled t-test of the two neighbouring segments (std with ddof 0,
    scipy.stats.ttest_ind_from_stats), at the first-pass p-value 10 x max_pvalue;
  * Hunter's split: windows of window_len points, each next window starting at
    max(last new change point, start + window_len // 2); the union is the "weak" change points;
  * merge: drop the weak point with the largest p while it is >= max_pvalue (then the smallest
    magnitude <= min_magnitude), re-testing its neighbours after each removal.
Defaults as Otava's CLI: window_len 50, max_pvalue 0.001, min_magnitude 0.

  otava_numpy.py [--repetitions R] [--json OUT]    times the series of changepoint_bench.cpp
  otava_numpy.py --detect FILE.csv                 prints the change points of a one-column CSV

The series are generated with numpy's seeded generator: same kinds and sizes as
changepoint_bench.cpp (not bit-identical values; the timing does not depend on them).
"""
import argparse
import json
import sys
import time

import numpy as np
from scipy import stats


def _t_test_p(left, right):
    n_l, n_r = len(left), len(right)
    if n_l + n_r <= 2 or n_l == 0 or n_r == 0:
        return 1.0
    res = stats.ttest_ind_from_stats(np.mean(left), np.std(left), n_l, np.mean(right), np.std(right), n_r)
    p = res.pvalue
    return 1.0 if np.isnan(p) else float(p)


def _prefix_distances(z):
    """P[i, j] = sum of |z_a - z_b| over a < i, b < j: 2-D prefix sums of the distance matrix."""
    L = len(z)
    P = np.zeros((L + 1, L + 1))
    P[1:, 1:] = np.abs(z[:, None] - z[None, :]).cumsum(0).cumsum(1)
    return P


def _best_candidate(P, begin, end):
    """(Q, tau) maximising the E-divisive statistic over begin < tau < kappa <= end."""
    L = end - begin
    if L < 2:
        return None

    def block(a, b, c, e):  # sum of the distances between [a, b) and [c, e), broadcasting
        return P[b, e] - P[a, e] - P[b, c] + P[a, c]

    tau = np.arange(begin + 1, end)[:, None]         # split: left = [begin, tau)
    kappa = np.arange(begin + 2, end + 1)[None, :]   # right end (exclusive)
    valid = kappa > tau
    n = (tau - begin).astype(float)
    m = (kappa - tau).astype(float)
    cross = block(begin, tau, tau, kappa)
    within_x = block(begin, tau, begin, tau) / 2.0
    within_y = block(tau, kappa, tau, kappa) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (2.0 / (n * m)) * cross
        e -= np.where(n > 1, 2.0 / (n * (n - 1)), 0.0) * within_x
        e -= np.where(m > 1, 2.0 / (m * (m - 1)), 0.0) * within_y
        q = n * m / (n + m) * e
    q = np.where(valid, q, -np.inf)
    i, j = np.unravel_index(np.argmax(q), q.shape)
    return float(q[i, j]), int(tau[i, 0])


def _e_divisive(z, pvalue):
    """Change points of one window: the distance sums once, each interval's best split once."""
    P = _prefix_distances(z)
    cps = []
    best_of = {}
    while True:
        bounds = [0] + cps + [len(z)]
        best = None
        for a, b in zip(bounds[:-1], bounds[1:]):
            if (a, b) not in best_of:
                best_of[(a, b)] = _best_candidate(P, a, b)
            c = best_of[(a, b)]
            if c is not None and (best is None or c[0] > best[0]):
                best = (c[0], c[1], a, b)
        if best is None:
            return cps
        _, tau, a, b = best
        if _t_test_p(z[a:tau], z[tau:b]) > pvalue:
            return cps
        cps = sorted(cps + [tau])


def _first_pass_p(max_p):
    return 10 * max_p if max_p < 0.05 else 2 * max_p if max_p < 0.5 else max_p


def split(z, window_len=50, max_pvalue=0.001):
    weak = set()
    step = window_len // 2
    start = 0
    while start < len(z):
        end = min(start + window_len, len(z))
        new = [start + c for c in _e_divisive(z[start:end], _first_pass_p(max_pvalue))]
        weak.update(new)
        if end == len(z):
            break
        start = max(max(new, default=0), start + step)
    return sorted(weak)


def _magnitude(left, right):
    m1, m2 = np.mean(left), np.mean(right)
    if m1 == 0 or m2 == 0:
        return 0.0
    return max(abs(m2 / m1 - 1), abs(m1 / m2 - 1))


def merge(z, cps, max_pvalue=0.001, min_magnitude=0.0):
    cps = list(cps)

    def stats_of(i):
        b = [0] + cps + [len(z)]
        left, right = z[b[i]:b[i + 1]], z[b[i + 1]:b[i + 2]]
        return _t_test_p(left, right), _magnitude(left, right)

    st = [stats_of(i) for i in range(len(cps))]
    while cps:
        worst = max(range(len(cps)), key=lambda i: st[i][0])
        if st[worst][0] < max_pvalue:
            worst = min(range(len(cps)), key=lambda i: st[i][1])
            if st[worst][1] > min_magnitude:
                break
        del cps[worst]
        del st[worst]
        for i in (worst - 1, worst):
            if 0 <= i < len(cps):
                st[i] = stats_of(i)
    return cps


def otava(z, window_len=50, max_pvalue=0.001, min_magnitude=0.0):
    z = np.asarray(z, dtype=float)
    return merge(z, split(z, window_len, max_pvalue), max_pvalue, min_magnitude)


def make_series(kind, n, seed):
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    level = np.where(i < n // 3, 100.0, np.where(i < 2 * n // 3, 115.0, 103.5))
    if kind == "shifts":
        return level + 5.0 * rng.standard_normal(n)
    if kind == "noise":
        return 100.0 + 5.0 * rng.standard_normal(n)
    if kind == "lognormal":
        return level * np.exp(0.5 * rng.standard_normal(n))
    if kind == "random_walk":
        return 100.0 + np.cumsum(rng.standard_normal(n))
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--json", help="write the timings here")
    ap.add_argument("--detect", help="print Otava's change points of a one-column CSV (header row)")
    args = ap.parse_args()
    if args.detect:
        z = np.loadtxt(args.detect, delimiter=",", skiprows=1, ndmin=1)
        print(json.dumps(otava(z)))
        return 0
    results = []
    for kind, n in [("shifts", 100), ("noise", 100), ("lognormal", 100), ("shifts", 1000), ("noise", 1000),
                    ("lognormal", 1000), ("shifts", 5000), ("noise", 5000), ("lognormal", 5000),
                    ("random_walk", 1000), ("random_walk", 5000)]:
        z = make_series(kind, n, 42)
        otava(z)  # warm-up
        times = []
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            cps = otava(z)
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        results.append({"kind": kind, "n": n, "median_ms": med * 1e3, "change_points": len(cps),
                        "repetitions": args.repetitions})
        print(f"otava_numpy {kind:<12} n={n:<5} median {med * 1e3:9.2f} ms   change points {len(cps)}", flush=True)
    if args.json:
        with open(args.json, "w") as fp:
            json.dump({"numpy": np.__version__, "results": results}, fp, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
