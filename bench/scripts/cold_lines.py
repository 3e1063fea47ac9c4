#!/usr/bin/env python3
"""Cache lines per call from two cachegrind profiles of `client_cost ... coldMB`.

usage: cold_lines.py SHORT.out LONG.out CALLS [TOP]

SHORT and LONG are `--cachegrind-out-file`s of the same command with different `nCALLS`; CALLS
is the difference. Setup and warm-up cancel out in the difference, and the misses of the cache
eviction itself (`evict_caches`) are left out, so what remains is what the calls touched after
every eviction: last-level misses for instructions (ILmr), data reads (DLmr) and data writes
(DLmw) per call, and with TOP the functions that miss most.
"""
import collections
import sys


def load(path):
    """Per function, the summed event counts of a cachegrind output file, and the event names."""
    counts = collections.defaultdict(lambda: None)
    events, fn = [], None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line[:1].isdigit() and fn is not None:
                values = [int(v) for v in line.split()[1:]]
                acc = counts[fn] or [0] * len(events)
                for i, v in enumerate(values):
                    acc[i] += v
                counts[fn] = acc
    return events, counts


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    events, short = load(sys.argv[1])
    events_long, long = load(sys.argv[2])
    if events != events_long or "ILmr" not in events:
        sys.exit("both files must come from cachegrind with --cache-sim=yes")
    calls = float(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    wanted = [events.index(e) for e in ("Ir", "ILmr", "DLmr", "DLmw")]
    total = [0.0] * 4
    per_fn = {}
    for fn in set(short) | set(long):
        if "evict_caches" in fn:
            continue
        a = short.get(fn) or [0] * len(events)
        b = long.get(fn) or [0] * len(events)
        diff = [(b[i] - a[i]) / calls for i in wanted]
        total = [t + d for t, d in zip(total, diff)]
        per_fn[fn] = diff[1] + diff[2] + diff[3]
    ir, il, dr, dw = total
    print(f"per call: {ir:,.0f} instructions; lines from memory: {il:,.0f} code, {dr:,.0f} data read, "
          f"{dw:,.0f} data written, {il + dr + dw:,.0f} in all")
    for fn, lines in sorted(per_fn.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{lines:8.1f}  {fn[:140]}")


if __name__ == "__main__":
    main()
