#!/usr/bin/env python3
"""A fleet's post-mortem on Dask distributed: one `baton report --format json`
per node folder as a task, then `baton merge` of the reports.

    python3 scripts/fleet-dask.py BUNDLE -o fleet.json                # local cluster
    python3 scripts/fleet-dask.py BUNDLE --scheduler tcp://host:8786  # your cluster
    python3 scripts/fleet-dask.py BUNDLE --format text                # the text report

BUNDLE holds one folder per node (`BUNDLE/web1/...`, `BUNDLE/web2/...`),
each named by its folder. Each task runs `baton report --format json
--node NAME=BUNDLE/NAME` where the worker runs (so the logs and `baton`
must be reachable at the same paths from every worker: a shared file
system, or the node's own logs on the node's own worker), and returns the
report's bytes; the client writes them to a scratch folder and runs
`baton merge` there, which gives the report one `baton report BUNDLE` would
give. Why Dask: a Python shop running WordPress fleets has it one `pip
install` away, its local cluster needs no service, and the same script runs
on a real cluster by giving its scheduler's address.

Needs `pip install dask distributed`. `--baton PATH` (or $BATON) names the
binary; by default `baton` on PATH. Exit status: baton merge's, or 2 when a
node's report failed (its stderr is shown).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time


def node_report(baton, name, path):
    """One node's report: (name, exit code, stdout bytes, stderr text)."""
    p = subprocess.run(
        [baton, "report", "--format", "json", "--quiet", "--node", f"{name}={path}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return name, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", help="a folder of node folders")
    ap.add_argument("-o", "--output", help="write the merged report here")
    ap.add_argument("--format", default="json", choices=["json", "text", "html"])
    ap.add_argument("--baton", default=os.environ.get("BATON", "baton"))
    ap.add_argument("--scheduler", help="a running cluster's address (default: a local cluster)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    from dask.distributed import Client, LocalCluster

    bundle = os.path.abspath(args.bundle)
    nodes = sorted(
        n for n in os.listdir(bundle) if os.path.isdir(os.path.join(bundle, n))
    )
    if not nodes:
        sys.exit(f"fleet-dask: {bundle} holds no node folders")
    t0 = time.monotonic()
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        # Processes, one thread each: baton is a process of its own anyway.
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        futures = [
            client.submit(node_report, args.baton, n, os.path.join(bundle, n), key=f"baton-{n}", pure=False)
            for n in nodes
        ]
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    t_tasks = time.monotonic() - t0
    failed = [(n, rc, err) for n, rc, _, err in results if rc not in (0, 4)]
    for n, rc, err in failed:
        print(f"fleet-dask: node {n}: baton report exited {rc}\n{err}", file=sys.stderr)
    if failed:
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="fleet-dask-") as tmp:
        files = []
        for n, _, out, _ in results:
            f = os.path.join(tmp, f"{n}.json")
            with open(f, "wb") as fh:
                fh.write(out)
            files.append(f)
        cmd = [args.baton, "merge", "--format", args.format]
        if args.output:
            cmd += ["-o", args.output]
        t1 = time.monotonic()
        rc = subprocess.run(cmd + files, stdin=subprocess.DEVNULL).returncode
    t_merge = time.monotonic() - t1
    print(
        f"fleet-dask: {len(nodes)} node reports on Dask in {t_tasks:.2f} s, baton merge in {t_merge:.2f} s",
        file=sys.stderr,
    )
    sys.exit(rc)


if __name__ == "__main__":
    main()
