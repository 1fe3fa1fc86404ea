#!/usr/bin/python3
"""Variants of the change-point detector tried against issue #13's TCPD bar (docs/performance.md
§10.1, "What was tried"), with the seeded null and planted-shift checks of §10.2 in small form.

A prototype, not the product: `default` is a line-by-line numpy/scipy port of
analysis::detect_change_points (src/analysis/changepoint.cpp: seeded binary segmentation on
mid-ranks, then confirmation by a winsorised pooled t-test with the AR(1) long-run factor and a
Mann-Whitney U test, Bonferroni over the pair's admissible splits, least-squares placement). On
TCPD it reproduces bin/changepoint_tcpd's per-series change points (F1 0.726, cover 0.663). Every
other variant changes one thing of it, with one setting for every series:

  winsor2.5, winsor4, winsor0  winsorisation of the t-test at 2.5 / 4 / no robust sigma (default 3)
  norelocate                   no least-squares placement (the rank scan's index is reported)
  place_no_reconfirm           placement moves the confirmed points but does not re-confirm them
  rhocap0.9                    AR(1) coefficient clamped to 0.9 instead of 0.99
  scan_tail                    pass 2's family-wise p-value: the smaller of Bonferroni over the
                               pair's splits and Siegmund's tail of the maximum of a standardised
                               mean-difference scan (continuous time, so conservative), which
                               counts the neighbouring splits' near-identical statistics once
  frozen_rho                   rho measured once, on the residuals of pass 1's candidate
                               segmentation, and kept while candidates are removed
  local_rho                    rho of each pair's two segments instead of the pooled one
  diff_rho                     rho = 1 + 2 r_d, r_d the lag-1 autocorrelation of the (winsorised)
                               first differences: the AR(1) identity, blind to level shifts
  min_rho                      the smaller of diff_rho's and the pooled estimate
  trend_free                   confirmation of each candidate by an F-test of one line against
                               two (separate level and slope) over the pair, rho from per-segment
                               line residuals, Mann-Whitney on the one line's residuals
  trend_free_norank            the same without the rank test
  trend_jump(_norank)          the same with a jump on a common slope (1 df) instead of two lines
  level_then_trend_jump        default, then trend_jump's test on its survivors (both must pass)
  bend, bend_once              default, then in each final segment a continuous broken-stick
                               (slope change) F-test with the AR(1) factor of its residuals,
                               Bonferroni over the splits; recursive / at most one per segment
  mM_aA_norelocate             min segment M, alpha A, no placement (the grid of §10.1)
  seasonal, seasonal_additive  a seasonal period p found first (the largest local maximum, p >= 3,
                               of the lag-p autocorrelation of the winsorised first differences,
                               above the Bonferroni bound over the lags up to n/3, with a positive
                               one at 2p), its profile (per-phase medians of the deviations from a
                               centred moving median of width p) removed, then the default
                               detector; on log values when all are positive (multiplicative
                               seasons, as airline passengers), or always additive

  changepoint_variants.py TCPD_DIR [--variant NAME ...] [--sim] [--per-series] [--check CPP.json]

--check compares the port's `default` change points with bin/changepoint_tcpd's `--json` output
(exit 1 on any difference), so the variants are known to start from the real detector.

Prints F1 and cover averaged over the 26 univariate non-quality-control TCPD series (scored as
TCPDBench: margin 5, index 0 added, annotators combined), and with --sim the share of null series
(Gaussian CV 5 %, log-normal sigma 0.5 and 1; n = 100, 500: 100 series, n = 1,000: 60) with any
change, and the recall of planted 3 x CV shifts within +-5 points (Gaussian and log-normal 0.5;
n = 200: 60 series, n = 1,000: 30) with the share found at exactly the planted index. numpy's
seeded generator: the same kinds of series as tests/unit/changepoint_simulation_test.cpp, fewer
of them, not the same values. Run with Debian's /usr/bin/python3 (numpy, scipy); about 5 s per
variant for TCPD, 1-5 min per variant with --sim.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
from scipy import stats
from scipy.special import erfc

KMAD = 1.482602218505602  # MAD -> sigma for normal data


def norm2p(z):
    return erfc(abs(z) / math.sqrt(2.0))


def adm(length, m):
    """Admissible splits of a stretch of `length` points, both sides >= m."""
    return length - 2 * m + 1 if length >= 2 * m else 0


# ------------------------------------------------------------------------------------------------
# The default detector (port of src/analysis/changepoint.cpp)
# ------------------------------------------------------------------------------------------------

def seeded_levels(n, m):
    out = [(1, float(n), 0.0)]
    k = 1
    while True:
        length = n / 2 ** k
        if length < 2 * m:
            break
        count = 2 ** (k + 1) - 1
        out.append((count, length, (n - length) / (count - 1)))
        k += 1
    return out


def candidates(x, o):
    """Pass 1: seeded binary segmentation on mid-ranks, Bonferroni over each interval's splits."""
    n, m = len(x), o['m']
    r = stats.rankdata(x) - 0.5 * (n + 1)
    s1 = np.concatenate([[0.0], np.cumsum(r)])
    s2 = np.concatenate([[0.0], np.cumsum(r * r)])
    found = []
    for count, length, shift in seeded_levels(n, m):
        for i in range(count):
            b = int(math.floor(i * shift))
            e = min(n, int(math.ceil(i * shift + length)))
            L = e - b
            if L < 2 * m:
                continue
            tot = s1[e] - s1[b]
            var = ((s2[e] - s2[b]) - tot * tot / L) / (L - 1)
            if not var > 0:
                continue
            t = np.arange(m, L - m + 1)
            num = t * tot - L * (s1[b + t] - s1[b])
            sc = num * num / (t * (L - t))
            k = int(np.argmax(sc))
            z = math.sqrt(sc[k] / (L * var))
            p = norm2p(z) * adm(L, m)
            if p <= o['alpha']:
                found.append((p, -z, L, b + int(t[k]), b, e))
    found.sort()
    accepted = []
    for p, _, _, idx, b, e in found:
        if any((b < a < e) or abs(idx - a) < m for a in accepted):
            continue
        accepted.append(idx)
    return sorted(accepted)


def robust(v):
    med = np.median(v)
    return med, KMAD * np.median(np.abs(v - med))


def winsorise(v, k):
    if len(v) < 3 or k <= 0:
        return v
    med, sc = robust(v)
    if sc <= 0:
        return v
    return np.clip(v, med - k * sc, med + k * sc)


def mwu_p(a, b):
    """Mann-Whitney U, two-sided: exact when the smaller side has <= 8 points and no ties, else
    the normal approximation with tie and continuity corrections (as compare_stats.cpp)."""
    small = min(len(a), len(b))
    ties = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    method = 'exact' if (small <= 8 and not ties) else 'asymptotic'
    return stats.mannwhitneyu(a, b, alternative='two-sided', method=method, use_continuity=True).pvalue


class Segment:
    def __init__(self, x, b, e, o):
        self.b, self.e = b, e
        self.raw = x[b:e]
        self.mean = self.raw.mean()
        w = winsorise(self.raw, o['winsor'])
        self.wmean = w.mean()
        r = w - self.wmean
        self.rsq = float(r @ r)
        self.rlag = float(r[1:] @ r[:-1])


class Confirmer:
    """Pass 2: backward elimination of the weakest candidate, neighbours re-tested."""
    segment_type = Segment

    def __init__(self, x, o):
        self.x, self.o = x, o

    def segment_at(self, cps):
        bounds = [0] + list(cps) + [len(self.x)]
        self.segs = [self.segment_type(self.x, bounds[i], bounds[i + 1], self.o) for i in range(len(bounds) - 1)]
        self.tests = [self.test(j) for j in range(len(cps))]

    def test(self, j):
        l, r = self.segs[j], self.segs[j + 1]
        n1, n2 = l.e - l.b, r.e - r.b
        se = math.sqrt((l.rsq + r.rsq) / (n1 + n2 - 2) * (1 / n1 + 1 / n2))
        if se > 0:
            t, df, const = (r.wmean - l.wmean) / se, n1 + n2 - 2, -1
        else:
            t, df, const = 0.0, 1, (1 if l.wmean == r.wmean else 0)
        return dict(t=t, df=df, const=const, prank=mwu_p(l.raw, r.raw), splits=adm(r.e - l.b, self.o['m']))

    def rho_of(self, sq, lag):
        return min(max(lag / sq, 0.0), self.o['cap']) if sq > 0 else 0.0

    def factor(self):
        rho = self.rho_of(sum(s.rsq for s in self.segs), sum(s.rlag for s in self.segs))
        return (1 + rho) / (1 - rho), rho

    def pair_factor(self, j, pooled):
        return pooled

    def score(self, j, f):
        t = self.tests[j]
        f = self.pair_factor(j, f)
        if t['const'] >= 0:
            pm = 1.0 if t['const'] == 1 else 0.0
        else:
            pm = min(1.0, 2 * stats.t.cdf(-abs(t['t']) / math.sqrt(f), t['df']))
        return max(pm, t['prank']) * t['splits']

    def remove(self, j):
        l, r = self.segs[j], self.segs[j + 1]
        self.segs[j] = self.segment_type(self.x, l.b, r.e, self.o)
        del self.segs[j + 1]
        del self.tests[j]
        if j > 0:
            self.tests[j - 1] = self.test(j - 1)
        if j < len(self.tests):
            self.tests[j] = self.test(j)

    def prune(self):
        while True:
            f, _ = self.factor()
            worst, worst_score = None, self.o['alpha']
            for j in range(len(self.tests)):
                s = self.score(j, f)
                if s > worst_score:
                    worst_score, worst = s, j
            if worst is None:
                return
            self.remove(worst)

    def relocate(self, j, begin):
        """Least-squares split within +-m of the current one, values winsorised at the pair's
        median +- winsor robust sigma; ties keep the earlier split. The newest change point also
        scores splits up to 2 points before the end; when one beyond end - m is best it cannot be
        placed yet: None (the detector drops it until m points follow it)."""
        m = self.o['m']
        at, end = self.segs[j + 1].b, self.segs[j + 1].e
        lo, hi = max(begin + m, at - m if at > m else 0), min(end - m, at + m)
        newest = end == len(self.x) and j + 1 == len(self.tests)
        last = max(hi, min(end - 2, at + m)) if newest else hi
        if lo >= last:
            return at
        v = self.x[begin:end]
        med, sc = robust(np.concatenate([self.segs[j].raw, self.segs[j + 1].raw]))
        if self.o['winsor'] > 0 and sc > 0:
            v = np.clip(v, med - self.o['winsor'] * sc, med + self.o['winsor'] * sc)
        L = end - begin
        tot, c = v.sum(), np.concatenate([[0.0], np.cumsum(v)])
        best, best_score = at, -1.0
        for split in range(lo, last + 1):
            t = split - begin
            num = t * tot - L * c[t]
            s = num * num / (t * (L - t))
            if s > best_score:
                best_score, best = s, split
        return None if best > hi else best

    def run(self, cps):
        self.segment_at(cps)
        self.prune()
        if self.o['relocate']:
            before, placed = [s.b for s in self.segs[1:]], []
            for j in range(len(self.tests)):
                placed.append(self.relocate(j, placed[-1] if placed else 0))
            if placed and placed[-1] is None:
                placed.pop()
            if placed != before:
                self.segment_at(placed)
                self.prune()
        return [s.b for s in self.segs[1:]]


DEFAULT = dict(alpha=0.01, m=6, winsor=3.0, cap=0.99, relocate=True)


def detect(x, confirmer=Confirmer, **kw):
    o = dict(DEFAULT)
    o.update(kw)
    x = np.asarray(x, float)
    if len(x) < 2 * o['m']:
        return []
    return confirmer(x, o).run(candidates(x, o))


class PlaceNoReconfirm(Confirmer):
    def run(self, cps):
        self.segment_at(cps)
        self.prune()
        placed = []
        for j in range(len(self.tests)):
            placed.append(self.relocate(j, placed[-1] if placed else 0))
        return [p for p in placed if p is not None]


class ScanTail(Confirmer):
    def score(self, j, f):
        t = self.tests[j]
        if t['const'] >= 0:
            p = 1.0 if t['const'] == 1 else 0.0
        else:
            p = min(1.0, 2 * stats.t.cdf(-abs(t['t']) / math.sqrt(f), t['df']))
        p = max(p, t['prank'])
        L, m = self.segs[j + 1].e - self.segs[j].b, self.o['m']
        if p <= 0:
            return 0.0
        b = stats.norm.isf(p / 2)
        t0, t1 = m / L, (L - m) / L
        siegmund = b * stats.norm.pdf(b) * math.log(t1 * (1 - t0) / (t0 * (1 - t1))) + p
        return min(p * t['splits'], siegmund)


# ------------------------------------------------------------------------------------------------
# Long-run variance variants
# ------------------------------------------------------------------------------------------------

class FrozenRho(Confirmer):
    def run(self, cps):
        self.segment_at(cps)
        self.frozen = Confirmer.factor(self)
        return Confirmer.run(self, cps)

    def factor(self):
        return self.frozen


class LocalRho(Confirmer):
    def pair_factor(self, j, pooled):
        l, r = self.segs[j], self.segs[j + 1]
        rho = self.rho_of(l.rsq + r.rsq, l.rlag + r.rlag)
        return (1 + rho) / (1 - rho)


def diff_rho(x, cap):
    d = np.diff(x)
    d = winsorise(d - np.median(d), 3.0)
    ss = d @ d
    rd = (d[1:] @ d[:-1]) / ss if ss > 0 else -0.5
    return min(max(1 + 2 * rd, 0.0), cap)


class DiffRho(Confirmer):
    def factor(self):
        rho = diff_rho(self.x, self.o['cap'])
        return (1 + rho) / (1 - rho), rho


class MinRho(Confirmer):
    def factor(self):
        a = diff_rho(self.x, self.o['cap'])
        b = Confirmer.factor(self)[1]
        rho = min(a, b)
        return (1 + rho) / (1 - rho), rho


# ------------------------------------------------------------------------------------------------
# Trend-aware confirmation
# ------------------------------------------------------------------------------------------------

def design(n, tau=None, mode='free'):
    t = np.arange(n, dtype=float)
    tc = (t - t.mean()) / max(n, 1)
    cols = [np.ones(n), tc]
    if tau is not None:
        s = (t >= tau).astype(float)
        cols.append(s)
        if mode == 'free':
            cols.append(s * tc)
    return np.vstack(cols).T


def fit_residuals(y, X):
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return y - X @ coef


def winsorised_fit(y, X, k):
    r = fit_residuals(y, X)
    if k > 0 and len(r) >= 3:
        med, sc = robust(r)
        if sc > 0:
            y = y - r + np.clip(r, med - k * sc, med + k * sc)
            r = fit_residuals(y, X)
    return y, r


class LineSegment:
    def __init__(self, x, b, e, o):
        self.b, self.e = b, e
        self.raw = x[b:e]
        self.mean = self.raw.mean()
        _, r = winsorised_fit(self.raw, design(e - b), o['winsor'])
        self.rsq = float(r @ r)
        self.rlag = float(r[1:] @ r[:-1])


class TrendConfirmer(Confirmer):
    segment_type = LineSegment

    def test(self, j):
        l, r = self.segs[j], self.segs[j + 1]
        y = self.x[l.b:r.e]
        n, tau = len(y), l.e - l.b
        X1 = design(n, tau, self.o['mode'])
        yw, r1 = winsorised_fit(y, X1, self.o['winsor'])
        r0 = fit_residuals(yw, design(n))
        rss1, rss0 = float(r1 @ r1), float(r0 @ r0)
        q, df2 = X1.shape[1] - 2, n - X1.shape[1]
        F = (max(rss0 - rss1, 0) / q) / (rss1 / df2) if rss1 > 0 else (0.0 if rss0 <= 0 else np.inf)
        prank = mwu_p(r0[:tau], r0[tau:]) if self.o['trend_rank'] else 0.0
        return dict(F=F, q=q, df2=df2, prank=prank, splits=adm(n, self.o['m']))

    def score(self, j, f):
        t = self.tests[j]
        pm = stats.f.sf(t['F'] / f, t['q'], t['df2']) if np.isfinite(t['F']) else 0.0
        return max(pm, t['prank']) * t['splits']


def detect_trend(x, level_first=False, **kw):
    o = dict(DEFAULT, mode='free', trend_rank=True)
    o.update(kw)
    x = np.asarray(x, float)
    if len(x) < 2 * o['m']:
        return []
    cps = candidates(x, o)
    if level_first:
        cps = Confirmer(x, o).run(cps)
    return TrendConfirmer(x, o).run(cps)


# ------------------------------------------------------------------------------------------------
# Slope changes inside the final segments (continuous broken stick)
# ------------------------------------------------------------------------------------------------

def bend_test(y, o):
    m, L = o['m'], len(y)
    t = np.arange(L, dtype=float)
    taus = np.arange(m, L - m + 1)
    if len(taus) == 0:
        return None
    X = design(L)
    y, ry = winsorised_fit(y, X, o['winsor'])
    H = np.maximum(t[:, None] - taus[None, :], 0.0)
    Hr = H - X @ np.linalg.lstsq(X, H, rcond=None)[0]
    den = (Hr * Hr).sum(0)
    red = np.where(den > 0, (Hr.T @ ry) ** 2 / np.where(den > 0, den, 1), 0)
    k = int(np.argmax(red))
    rss0 = float(ry @ ry)
    rss1 = rss0 - red[k]
    if rss1 <= 0:
        return int(taus[k]), 0.0
    res = ry - (Hr[:, k] @ ry) / den[k] * Hr[:, k]
    sq, lag = res @ res, res[1:] @ res[:-1]
    rho = min(max(lag / sq, 0.0), o['cap'])
    F = (rss0 - rss1) / (rss1 / (L - 3)) / ((1 + rho) / (1 - rho))
    return int(taus[k]), stats.f.sf(F, 1, L - 3) * adm(L, m)


def detect_bend(x, recurse=True, **kw):
    o = dict(DEFAULT)
    o.update(kw)
    x = np.asarray(x, float)
    cps = detect(x, **kw)
    if len(x) < 2 * o['m']:
        return cps
    bounds = [0] + cps + [len(x)]
    out = set(cps)
    stack = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    while stack:
        b, e = stack.pop()
        if e - b < 2 * o['m'] + 2:
            continue
        r = bend_test(x[b:e], o)
        if r is not None and r[1] <= o['alpha']:
            out.add(b + r[0])
            if recurse:
                stack += [(b, b + r[0]), (b + r[0], e)]
    return sorted(out)


# ------------------------------------------------------------------------------------------------
# Seasonal adjustment before the default detector
# ------------------------------------------------------------------------------------------------

def seasonal_period(x, alpha=0.01):
    """The seasonal period of x, or None: the lag p >= 3 (up to n/3) whose autocorrelation of the
    winsorised first differences is the largest local maximum above the Bonferroni bound over the
    lags (white noise: sd 1/sqrt(n)), with a positive autocorrelation at 2p where 2p is in range."""
    d = np.diff(x)
    maxlag = min(len(d) // 3, 400)
    if maxlag < 3:
        return None
    d = winsorise(d - np.median(d), 3.0)
    d = d - d.mean()
    ss = float(d @ d)
    if ss <= 0:
        return None
    r = np.array([float(d[k:] @ d[:-k]) / ss for k in range(1, maxlag + 1)])
    bound = stats.norm.isf(alpha / 2 / maxlag) / math.sqrt(len(d))
    best = None
    for k in range(3, maxlag + 1):
        peak = r[k - 1] >= r[k - 2] and (k == maxlag or r[k - 1] >= r[k])
        if r[k - 1] > bound and peak and not (2 * k <= maxlag and r[2 * k - 1] <= 0):
            if best is None or r[k - 1] > r[best - 1]:
                best = k
    return best


def deseasonalise(x, p):
    n, h = len(x), p // 2
    trend = np.array([np.median(x[max(0, i - h):min(n, i + h + 1)]) for i in range(n)])
    dev = x - trend
    profile = np.array([np.median(dev[i::p]) for i in range(p)])
    return x - np.resize(profile - profile.mean(), n)


def detect_seasonal(x, multiplicative=True, **kw):
    x = np.asarray(x, float)
    logs = multiplicative and x.min() > 0
    y = np.log(x) if logs else x
    p = seasonal_period(y)
    if p is not None:
        y = deseasonalise(y, p)
        x = np.exp(y) if logs else y
    return detect(x, **kw)


VARIANTS = {
    'default': lambda x: detect(x),
    'winsor2.5': lambda x: detect(x, winsor=2.5),
    'winsor4': lambda x: detect(x, winsor=4.0),
    'winsor0': lambda x: detect(x, winsor=0.0),
    'norelocate': lambda x: detect(x, relocate=False),
    'place_no_reconfirm': lambda x: detect(x, PlaceNoReconfirm),
    'rhocap0.9': lambda x: detect(x, cap=0.9),
    'scan_tail': lambda x: detect(x, ScanTail),
    'frozen_rho': lambda x: detect(x, FrozenRho),
    'local_rho': lambda x: detect(x, LocalRho),
    'diff_rho': lambda x: detect(x, DiffRho),
    'min_rho': lambda x: detect(x, MinRho),
    'trend_free': lambda x: detect_trend(x, mode='free'),
    'trend_free_norank': lambda x: detect_trend(x, mode='free', trend_rank=False),
    'trend_jump': lambda x: detect_trend(x, mode='jump'),
    'trend_jump_norank': lambda x: detect_trend(x, mode='jump', trend_rank=False),
    'level_then_trend_jump': lambda x: detect_trend(x, level_first=True, mode='jump'),
    'bend': lambda x: detect_bend(x),
    'bend_once': lambda x: detect_bend(x, recurse=False),
    'seasonal': lambda x: detect_seasonal(x),
    'seasonal_additive': lambda x: detect_seasonal(x, multiplicative=False),
}
for _m in (6, 8, 10, 12):
    for _a in (0.01, 0.02, 0.05, 0.1):
        VARIANTS[f'm{_m}_a{_a}_norelocate'] = lambda x, m=_m, a=_a: detect(x, m=m, alpha=a, relocate=False)


# ------------------------------------------------------------------------------------------------
# TCPDBench scoring (analysis/scripts/metrics.py)
# ------------------------------------------------------------------------------------------------

def true_positives(truth, pred, margin):
    pred, count = list(pred), 0
    for tau in truth:
        best, best_d = None, margin + 1
        for i, x in enumerate(pred):
            if abs(x - tau) < best_d:
                best_d, best = abs(x - tau), i
        if best is not None:
            del pred[best]
            count += 1
    return count


def f1(annotations, pred, margin=5):
    x = sorted(set(list(pred) + [0]))
    sets = [sorted(set(a + [0])) for a in annotations]
    union = sorted(set(sum(sets, [])))
    P = true_positives(union, x, margin) / len(x)
    R = sum(true_positives(s, x, margin) / len(s) for s in sets) / len(sets)
    return 2 * P * R / (P + R) if P + R > 0 else 0.0


def cover(annotations, pred, n):
    def bounds(cps):
        return sorted(set([0] + [c for c in cps if 0 < c < n] + [n]))
    pb, total = bounds(pred), 0.0
    for a in annotations:
        tb, c = bounds(a), 0.0
        for i in range(len(tb) - 1):
            r0, r1, best = tb[i], tb[i + 1], 0.0
            for k in range(len(pb) - 1):
                lo, hi = max(r0, pb[k]), min(r1, pb[k + 1])
                if hi > lo:
                    best = max(best, (hi - lo) / (max(r1, pb[k + 1]) - min(r0, pb[k])))
            c += (r1 - r0) * best
        total += c / n
    return total / len(annotations)


def load_tcpd(directory):
    annotations = json.load(open(os.path.join(directory, 'annotations.json')))
    out = []
    for f in sorted(os.listdir(os.path.join(directory, 'datasets'))):
        if not f.endswith('.json'):
            continue
        d = json.load(open(os.path.join(directory, 'datasets', f)))
        if d['n_dim'] != 1 or d['name'].startswith('quality_control'):
            continue
        x = []
        for v in d['series'][0]['raw']:
            x.append(float(v) if v is not None else x[-1])  # forward fill (uk_coal_employ)
        out.append((d['name'], np.array(x), [list(v) for v in annotations[d['name']].values()]))
    return out


def score_tcpd(fn, data, per_series=False):
    F, C = [], []
    for name, x, a in data:
        cps = sorted(set(c for c in fn(x) if 1 <= c <= len(x) - 2))  # as TCPDBench's summarize.py
        F.append(f1(a, cps))
        C.append(cover(a, cps, len(x)))
        if per_series:
            print(f'  {name:<20} {len(x):5d} F1 {F[-1]:.3f} cover {C[-1]:.3f} {cps}')
    return float(np.mean(F)), float(np.mean(C))


# ------------------------------------------------------------------------------------------------
# Seeded series
# ------------------------------------------------------------------------------------------------

CV = {'gaussian': 0.05, 'lognormal0.5': math.sqrt(math.exp(0.25) - 1), 'lognormal1': math.sqrt(math.e - 1)}


def noise(kind, level, rng, size):
    z = rng.standard_normal(size)
    if kind == 'gaussian':
        return level * (1 + 0.05 * z)
    s = 0.5 if kind == 'lognormal0.5' else 1.0
    return level * np.exp(s * z - s * s / 2)


def planted(kind, n, rng):
    shifts, at = [], int(rng.integers(20, 201))
    while at + 20 <= n:
        shifts.append(at)
        at += int(rng.integers(20, 201))
    level, nxt, lv = 100.0, 0, np.empty(n)
    for i in range(n):
        if nxt < len(shifts) and i == shifts[nxt]:
            up = True if level < 60 else False if level > 200 else rng.random() < 0.5
            level *= (1 + 3 * CV[kind]) if up else 1 / (1 + 3 * CV[kind])
            nxt += 1
        lv[i] = level
    return noise(kind, lv, rng, n), shifts


def simulate(fn):
    out = []
    for ki, kind in enumerate(CV):
        cells = []
        for n in (100, 500, 1000):
            rng = np.random.default_rng(1000 * n + ki)
            series = 100 if n < 1000 else 60
            hit = sum(1 for _ in range(series) if fn(noise(kind, 100.0, rng, n)))
            cells.append(f'n={n} {100 * hit / series:.0f} % ({hit}/{series})')
        out.append(f'null {kind}: ' + ', '.join(cells))
    for ki, kind in enumerate(('gaussian', 'lognormal0.5')):
        cells = []
        for n in (200, 1000):
            rng = np.random.default_rng(5 * n + ki)
            planted_n = found = exact = reported = 0
            for _ in range(60 if n == 200 else 30):
                x, shifts = planted(kind, n, rng)
                cps = fn(x)
                reported += len(cps)
                used = set()
                for t in shifts:
                    planted_n += 1
                    exact += t in cps
                    for j, i in enumerate(cps):
                        if j not in used and abs(i - t) <= 5:
                            used.add(j)
                            found += 1
                            break
            cells.append(f'n={n} recall {found / planted_n:.3f} ({found}/{planted_n}, {reported} reported, '
                         f'{exact / planted_n:.0%} at the exact index)')
        out.append(f'planted 3 x CV {kind}: ' + ', '.join(cells))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('tcpd_dir')
    ap.add_argument('--variant', action='append', choices=sorted(VARIANTS), help='default: all')
    ap.add_argument('--sim', action='store_true', help='also the seeded null and planted-shift series')
    ap.add_argument('--per-series', action='store_true')
    ap.add_argument('--check', metavar='CPP.json', help="bin/changepoint_tcpd's --json output to compare with")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.tcpd_dir, 'annotations.json')):
        print(f'changepoint_variants.py: error: no annotations.json in {args.tcpd_dir}', file=sys.stderr)
        return 2
    data = load_tcpd(args.tcpd_dir)
    if args.check:
        try:
            cpp = json.load(open(args.check))
        except (OSError, ValueError) as e:
            print(f'changepoint_variants.py: error: {args.check}: {e}', file=sys.stderr)
            return 2
        missing = [name for name, _, _ in data if name not in cpp]
        if missing:
            print(f'changepoint_variants.py: error: {args.check}: no series {missing}', file=sys.stderr)
            return 2
        differ = [name for name, x, _ in data
                  if sorted(set(c for c in detect(x) if 1 <= c <= len(x) - 2)) != cpp[name]['change_points']]
        print(f'port vs {args.check}: ' + (f'DIFFERENT on {differ}' if differ else f'same change points on all {len(data)} series'))
        if differ:
            return 1
    for name in args.variant or list(VARIANTS):
        F, C = score_tcpd(VARIANTS[name], data, args.per_series)
        print(f'{name:<26} TCPD F1 {F:.3f} cover {C:.3f} ({len(data)} series)', flush=True)
        if args.sim:
            for line in simulate(VARIANTS[name]):
                print(f'{"":<26} {line}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
