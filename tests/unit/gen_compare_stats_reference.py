#!/usr/bin/python3
"""Prints the scipy reference values hard-coded in compare_stats_test.cpp.

Run with Debian's interpreter and packages (python3-scipy, python3-numpy):
    /usr/bin/python3 tests/unit/gen_compare_stats_reference.py
Checked with scipy 1.10.1 / numpy 1.24.2 (Debian 12). The test itself does not need scipy.

Larger inputs are not pasted into the test: both sides generate them with the same
splitmix64-based integer formula (`pseudo_random` here and in the test).
"""
import numpy as np
import scipy
from scipy import stats

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def pseudo_random(seed, n, modulus, offset):
    """offset + (splitmix64 output % modulus), n values from state `seed`."""
    out, state = [], seed
    for _ in range(n):
        state, z = splitmix64(state)
        out.append(offset + z % modulus)
    return out


def mwu(name, x, y, method="auto", use_continuity=True):
    x, y = np.asarray(x), np.asarray(y)
    r = stats.mannwhitneyu(x, y, method=method, use_continuity=use_continuity, alternative="two-sided")
    ties = len(np.unique(np.concatenate([x, y]))) != len(x) + len(y)
    print(f"{name}: method={method} ties={ties} n=({len(x)}, {len(y)}) U={r.statistic!r} p={r.pvalue!r}")


def bh_by_hand(p):
    """Benjamini-Hochberg as scipy>=1.11 false_discovery_control(method='bh') computes it."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ps = p[order] * m / np.arange(1, m + 1)
    ps = np.minimum.accumulate(ps[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.clip(ps, 0, 1)
    return q


def main():
    print(f"# scipy {scipy.__version__}, numpy {np.__version__}")

    print("## Mann-Whitney U (two-sided)")
    # scipy's documentation example (Conover): exact, U = 17, p = 0.1111...
    mwu("docs_example", [19, 22, 16, 29, 24], [20, 11, 17, 12])
    # small vs large sample without ties: exact under 'auto' (min size <= 8)
    mwu("exact_3_vs_200", pseudo_random(1, 3, 10**9, 0), pseudo_random(2, 200, 10**9, 0))
    mwu("exact_8_vs_40", pseudo_random(3, 8, 10**9, 0), pseudo_random(4, 40, 10**9, 150_000_000))
    # fully separated, both exact and asymptotic
    mwu("separated_8_vs_8", list(range(1, 9)), list(range(9, 17)))
    mwu("separated_200_vs_200", list(range(0, 200)), list(range(200, 400)))
    # forced exact on larger samples (accuracy of the generating-function product)
    mwu("exact_forced_30_vs_30", pseudo_random(5, 30, 10**9, 0), pseudo_random(6, 30, 10**9, 250_000_000),
        method="exact")
    mwu("exact_forced_60_vs_60", pseudo_random(7, 60, 10**9, 0), pseudo_random(8, 60, 10**9, 200_000_000),
        method="exact")
    # ties in a small sample: asymptotic under 'auto'
    mwu("ties_small", [1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6])
    # large, heavily tied, small shift: asymptotic
    mwu("large_ties", pseudo_random(9, 3000, 2000, 0), pseudo_random(10, 2500, 2000, 30))
    # large, no continuity correction
    mwu("large_ties_no_continuity", pseudo_random(9, 3000, 2000, 0), pseudo_random(10, 2500, 2000, 30),
        use_continuity=False)
    # forced asymptotic on a small sample without ties
    mwu("docs_example_asymptotic", [19, 22, 16, 29, 24], [20, 11, 17, 12], method="asymptotic")
    # identical samples: p = 1
    same = pseudo_random(11, 100, 50, 0)
    mwu("identical", same, same)
    # a million per side, a 0.1 % shift of a uniform on [0, 1e6): asymptotic
    mwu("million", pseudo_random(12, 1_000_000, 1_000_000, 0), pseudo_random(13, 1_000_000, 1_000_000, 1000))
    # doubles
    mwu("doubles_exact", [0.5, 1.25, -3.0, 2.75, 10.0, 0.125], [4.5, 3.25, 8.0, 7.5, 6.0, 5.5, 9.0])
    # TrackIQ ranks +-infinity as the extremes they are; scipy 1.10 answers NaN for infinite input,
    # so the reference stands in +-1e300, which rank the same.
    mwu("doubles_with_infinity", [-1e300, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1e300, 9.0])

    print("## Welch t-test: ttest_ind(current, baseline, equal_var=False) and the 95 % CI")
    def welch(name, base, cur):
        base, cur = np.asarray(base, dtype=float), np.asarray(cur, dtype=float)
        r = stats.ttest_ind(cur, base, equal_var=False)
        vx, vy = base.var(ddof=1) / len(base), cur.var(ddof=1) / len(cur)
        df = (vx + vy) ** 2 / (vx ** 2 / (len(base) - 1) + vy ** 2 / (len(cur) - 1))
        se = np.sqrt(vx + vy)
        q = stats.t.ppf(0.975, df)
        d = cur.mean() - base.mean()
        print(f"{name}: t={r.statistic!r} p={r.pvalue!r} df={df!r} low={d - q * se!r} high={d + q * se!r}")
    welch("welch_small", [10, 12, 11, 13, 9], [14, 15, 13, 16, 15, 14])
    welch("welch_large", pseudo_random(21, 2000, 1_000_000, 10_000_000), pseudo_random(22, 1500, 3_000_000, 9_500_000))
    print("t.cdf(-2.5, 3) =", repr(stats.t.cdf(-2.5, 3)), " t.ppf(0.975, 2.5) =", repr(stats.t.ppf(0.975, 2.5)),
          " t.cdf(1.0, 1000) =", repr(stats.t.cdf(1.0, 1000)))

    print("## Tail share: Fisher's exact test, one-sided (current has more beyond the cut)")
    def fisher(name, b_beyond, n_b, c_beyond, n_c):
        r = stats.fisher_exact([[c_beyond, n_c - c_beyond], [b_beyond, n_b - b_beyond]], alternative="greater")
        print(f"{name}: p={r[1]!r}")
    fisher("fisher_0_of_1000_vs_10_of_1000", 0, 1000, 10, 1000)
    fisher("fisher_9_of_10000_vs_12_of_8000", 9, 10000, 12, 8000)
    fisher("fisher_0_of_5_vs_1_of_5", 0, 5, 1, 5)

    print("## Benjamini-Hochberg")
    hand = [0.01, 0.04, 0.03, 0.005, 0.2]
    print("hand", list(hand), "->", [float(v) for v in bh_by_hand(hand)])
    pv = [0.0001, 0.9, 0.02, 0.02, 0.5, 0.003, 0.04, 0.7, 0.011, 1.0, 0.0, 0.049]
    q = bh_by_hand(pv)
    if hasattr(stats, "false_discovery_control"):
        assert np.allclose(q, stats.false_discovery_control(pv, method="bh"), rtol=0, atol=1e-15)
        print("# checked against scipy.stats.false_discovery_control")
    else:
        print("# scipy.stats.false_discovery_control not available (scipy < 1.11): computed by hand")
    print("mixed", pv, "->", [float(v) for v in q])


if __name__ == "__main__":
    main()
