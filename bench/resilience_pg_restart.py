"""PostgreSQL restarted under load: clean 503s while it is away, then recovery with no one
touching the app.

On a PostgreSQL cluster of its own (bench/_pgcluster.py), gunicorn as in production, C client
threads send public GETs and votes (slip, ballot, send; the same form again after a failure)
for the whole run. The cluster is restarted twice under that load: `pg_ctl restart -m fast`
(clients disconnected, clean shutdown) and `-m immediate` (as a crash: no shutdown, crash
recovery on start). Every answer is counted per second; after each restart: the seconds until
the first success and until the last failure; 500s must be 0 throughout; the same gunicorn
workers (no worker restarted) each hold a working database connection at the end; the ballot
box is consistent (one ballot per who-voted row, every receipt given is stored, no ballot
doubled). PASS or FAIL (exit 1). Only 127.0.0.1 is contacted; needs root. Usage:
    .venv/bin/python bench/resilience_pg_restart.py [seconds=45] [workers=3] [clients=12]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pgcluster import (verdict, Gunicorn, MixedLoad, amcheck, app_env, ballot_box, cluster, create_app_database,  # noqa: E402
                        draw_codes, worker_pg_connections)

PORT = 8872
PG_PORT = 54330


def voters_check(load: MixedLoad, box: dict) -> dict[str, bool]:
    refused = [v["refused"] for v in load.voters if v.get("refused")]
    if refused:
        print(f"{len(refused)} votes refused, such as: {refused[:3]}")
    confirmed = [v["receipt"] for v in load.voters if v["receipt"]]
    sent = [v for v in load.voters if v["sent"]]
    stored = set(box["receipts"])
    lost = [r for r in confirmed if r not in stored]
    return {
        f"every receipt given is stored (lost: {len(lost)})": not lost,
        f"receipts unique ({len(confirmed)})": len(set(confirmed)) == len(confirmed),
        f"one who-voted row per ballot ({box['records']} rows, {box['ballots']} ballots)":
            box["records"] == box["ballots"],
        f"no ballot doubled: ballots <= voters who sent a form ({box['ballots']} <= {len(sent)})":
            box["ballots"] <= len(sent),
        f"no ballot without its choices ({box['ballots_without_choices']})": box["ballots_without_choices"] == 0,
        f"every voter who sent a form was confirmed ({len(confirmed)}/{len(sent)})": len(confirmed) == len(sent),
    }


def main(seconds: int, workers: int, clients: int) -> int:
    started = time.strftime("%Y-%m-%d %H:%M")
    with cluster(port=PG_PORT) as pg:
        url = create_app_database(pg)
        process_id, codes = draw_codes(url, 2000)
        server = Gunicorn(app_env(url), PORT, workers=workers)
        server.start()
        restarts: list[tuple[str, float, float]] = []  # (mode, at, pg_ctl seconds)
        try:
            pids_before = sorted(server.worker_pids())
            load = MixedLoad(PORT, process_id, codes, clients=clients)
            load.start()
            plan = [(seconds * 0.25, "fast"), (seconds * 0.6, "immediate")]
            for at, mode in plan:
                while load.now() < at:
                    time.sleep(0.05)
                t = load.now()
                took = pg.restart(mode)
                restarts.append((mode, t, took))
            while load.now() < seconds:
                time.sleep(0.1)
            load.stop()
            connections = worker_pg_connections(server, PG_PORT)
            pids_after = sorted(server.worker_pids())
            server_log = server.log_text()
        finally:
            server.stop()
        box = ballot_box(pg, "participation", process_id)
        checked, corrupt = amcheck(pg, "participation")

    ends = [t for _m, t, _d in restarts[1:]] + [float(seconds) + 60]
    recovery = []
    for (mode, t, took), end in zip(restarts, ends):
        failures = load.failures_between(t, end)
        first_failure = min((f for f, _o in failures), default=t)
        last_failure = max((f for f, _o in failures), default=t)
        recovery.append((mode, t, took, len(failures), first_failure - t, last_failure - t))
    five_hundreds = load.tally.total("500")
    checks = {
        f"no 500 answer ({five_hundreds})": five_hundreds == 0,
        f"no worker died or was replaced ({pids_before} -> {pids_after})": pids_before == pids_after,
        f"each worker holds a database connection again at the end ({connections})":
            len(connections) == workers and all(n > 0 for n in connections.values()),
        f"served again within 10 s of pg_ctl having the server back ({[round(r[5] - r[2], 1) for r in recovery]})":
            all(r[5] - r[2] < 10 for r in recovery),
        "no traceback in gunicorn's log": "Traceback" not in server_log,
        f"amcheck: {checked} B-tree indexes (with their tables) clean {corrupt}": checked > 0 and not corrupt,
        **voters_check(load, box),
    }
    print(f"PostgreSQL restarted under load — {started}, gunicorn {workers} gthread workers x 4 threads, "
          f"APP_ENV=production, own PostgreSQL cluster; {clients} client threads for {seconds} s")
    print(f"answers: {load.tally.total('ok')} ok, {load.tally.total('503')} 503, {five_hundreds} 500, "
          f"{load.tally.total('other')} other, {load.tally.total('conn')} failed connections; "
          f"voters {len(load.voters)}, ballots stored {box['ballots']}")
    for mode, t, took, failures, first_failure, last_failure in recovery:
        print(f"restart -m {mode} at {t:.1f} s (pg_ctl took {took:.1f} s): {failures} answers 503/500/cut, "
              f"from {first_failure:.1f} s to {last_failure:.1f} s after the command; all served after that")
    print("per second:\n" + load.tally.table({int(t): f"pg_ctl restart -m {m}" for m, t, _d in restarts}))
    return verdict(checks, server, server_log)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    sys.exit(main(*(args + [45, 3, 12][len(args):])))
