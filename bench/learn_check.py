#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks `acm learn evaluate` on helpdesk_tax2017.csv (published split) independently.

Reads the log and the predictions CSV that `acm learn evaluate --out FILE` wrote, and prints:
- the model's next-step accuracy and remaining-time MAE recomputed from the CSV (every point of
  the protocol must be there once);
- the first-order Markov baseline ("end" a candidate) computed here from the training cases;
- the ceiling of any model that sees only the activities of the prefix: for each distinct
  prefix among the test points, its most frequent next activity IN THE TEST CASES (an oracle
  that knows the answers); no such model can score higher on these points.

Usage: bench/learn_check.py LOG.csv PREDICTIONS.csv
"""
import collections
import csv
import datetime
import sys


def read_cases(path):
    cases = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if not cases or cases[-1][0] != row["CaseID"]:
                cases.append((row["CaseID"], []))
            when = datetime.datetime.strptime(row["CompleteTimestamp"], "%Y-%m-%d %H:%M:%S")
            cases[-1][1].append((row["ActivityID"], when))
    return cases


def main(log_path, predictions_path):
    cases = read_cases(log_path)
    n = len(cases)
    fold = round((n + 1) / 3)
    train, test = cases[: 2 * fold], cases[2 * fold :]
    points = {}
    for cid, events in test:
        events = sorted(events, key=lambda e: e[1])  # stable: ties keep file order
        acts = [a for a, _ in events]
        for k in range(2, len(acts)):
            remaining = (events[-1][1] - events[k - 1][1]).total_seconds()
            points[(cid, k)] = (acts[:k], acts[k], remaining)
    hits = 0
    abs_err = 0.0
    seen = set()
    with open(predictions_path, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["case_id", "prefix_length", "predicted_next", "predicted_remaining_seconds"]
        for row in reader:
            key = (row["case_id"], int(row["prefix_length"]))
            assert key in points and key not in seen, key
            seen.add(key)
            _, actual, remaining = points[key]
            hits += row["predicted_next"] == actual
            abs_err += abs(float(row["predicted_remaining_seconds"]) - remaining) / 86400
    assert len(seen) == len(points), (len(seen), len(points))
    print(f"points {len(points)}: accuracy {hits / len(points):.4f}, MAE {abs_err / len(points):.3f} days")

    successors = collections.defaultdict(collections.Counter)
    for _, events in train:
        acts = [a for a, _ in sorted(events, key=lambda e: e[1])] + ["end"]
        for k in range(len(acts) - 1):
            successors[acts[k]][acts[k + 1]] += 1
    markov = sum(
        1
        for prefix, actual, _ in points.values()
        if successors[prefix[-1]] and min(successors[prefix[-1]].items(), key=lambda kv: (-kv[1], kv[0]))[0] == actual
    )
    print(f"markov-1 (end a candidate, ties to the first name): {markov / len(points):.4f}")

    oracle = collections.defaultdict(collections.Counter)
    for prefix, actual, _ in points.values():
        oracle[tuple(prefix)][actual] += 1
    best = sum(max(c.values()) for c in oracle.values())
    print(f"ceiling of any activity-sequence model (oracle on the test answers): {best / len(points):.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
