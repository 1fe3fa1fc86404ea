#!/usr/bin/python3
"""Peers of bench/store_bench.cpp on the very same 1 M + 1 M samples (base.i64, cur.i64 written by
`store_bench --write-samples DIR`), under Debian's python3 (numpy, scipy):

  * scipy.stats.mannwhitneyu(cur, base), asymptotic, two-sided: trackiq's mann_whitney_u
  * a numpy bootstrap of the median and p99 differences with B resamples: trackiq's bootstrap
  * Python's sqlite3 inserting the samples one row each (executemany, one transaction): the
    usual normalised way to keep samples, against trackiq's one-blob-per-run save
  * psql \\copy of the samples into a table (PostgreSQL's bulk path) when --postgres URL is given

Prints one JSON object: {name: [seconds per repetition, ...], ...}.
"""
import argparse
import json
import os
import subprocess
import sqlite3
import tempfile
import time

import numpy as np
import scipy
import scipy.stats


def timed(fn, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--resamples", type=int, default=100)
    ap.add_argument("--postgres", default="")
    a = ap.parse_args()
    base = np.fromfile(os.path.join(a.dir, "base.i64"), dtype="<i8")
    cur = np.fromfile(os.path.join(a.dir, "cur.i64"), dtype="<i8")
    res = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sqlite": sqlite3.sqlite_version}}

    res["scipy_mannwhitneyu"] = timed(
        lambda: scipy.stats.mannwhitneyu(cur, base, alternative="two-sided", method="asymptotic"), a.reps)

    def bootstrap():
        rng = np.random.default_rng(42)
        diffs = np.empty((a.resamples, 2))
        for b in range(a.resamples):
            xb = base[rng.integers(0, base.size, base.size)]
            xc = cur[rng.integers(0, cur.size, cur.size)]
            diffs[b] = np.percentile(xc, [50, 99]) - np.percentile(xb, [50, 99])
        return np.percentile(diffs, [2.5, 97.5], axis=0)

    res["numpy_bootstrap_b%d" % a.resamples] = timed(bootstrap, a.reps)

    def sqlite_rows():
        with tempfile.TemporaryDirectory() as d:
            con = sqlite3.connect(os.path.join(d, "peer.db"))
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("CREATE TABLE samples (run INTEGER, i INTEGER, latency_ns INTEGER)")
            with con:
                con.executemany("INSERT INTO samples VALUES (1, ?, ?)", enumerate(base.tolist()))
            con.close()

    res["python_sqlite3_rows"] = timed(sqlite_rows, a.reps)

    if a.postgres:
        subprocess.run(["psql", a.postgres, "-q", "-c", "CREATE TABLE IF NOT EXISTS peer_samples (run int, i int, latency_ns bigint)"],
                       check=True)
        data = "".join("1\t%d\t%d\n" % (i, v) for i, v in enumerate(base.tolist())).encode()

        def copy():
            subprocess.run(["psql", a.postgres, "-q", "-c", "\\copy peer_samples FROM STDIN"], input=data, check=True)

        res["psql_copy_rows"] = timed(copy, a.reps)
        subprocess.run(["psql", a.postgres, "-q", "-c", "DROP TABLE peer_samples"], check=True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
