"""The database's disk full, then the database read-only, under load: clear 503s for the writes
while it lasts, reading goes on, nothing half-written, service back by itself afterwards.

On a PostgreSQL cluster of its own (bench/_pgcluster.py). By default the app's database lives
in a tablespace on a small tmpfs mounted for the run (the data disk; the WAL stays on the
system's disk, as with a separate data volume). `--whole` puts the whole cluster, WAL included,
on the tmpfs instead: PostgreSQL then stops itself (PANIC) when it cannot write its WAL, and
the run shows what happens then. gunicorn as in production; C client threads send public GETs
and votes (the same form again after a failure) for the whole run, which goes:

  normal | disk filled to ENOSPC (a filler file) | filler removed | normal |
  ALTER SYSTEM SET default_transaction_read_only = on + reload | reset + reload | normal

Checks: no 500 at any time; while full and while read-only the writes get 503 and reads are
still served; writes succeed again within seconds of the disk being freed / the setting
reset, with no restart of anything; the ballot box is consistent (one ballot per who-voted
row, each with its choices, every receipt given stored) and amcheck finds the indexes and
tables clean. PASS or FAIL (exit 1). Only 127.0.0.1 is contacted; needs root (tmpfs). Usage:
    .venv/bin/python bench/resilience_disk_full.py [--whole] [seconds=70] [workers=3] [clients=12]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pgcluster import (verdict, Gunicorn, MixedLoad, amcheck, app_env, ballot_box, cluster, create_app_database,  # noqa: E402
                        draw_codes)
from resilience_pg_restart import voters_check  # noqa: E402

PORT = 8873
PG_PORT = 54331
DISK_MB = 96
WHOLE_DISK_MB = 256  # the cluster's own files and WAL segments (16 MiB each) fit with room to spare


def main(whole: bool, seconds: int, workers: int, clients: int) -> int:
    started = time.strftime("%Y-%m-%d %H:%M")
    disk_mb = WHOLE_DISK_MB if whole else DISK_MB
    layout = {"tmpfs_mb": disk_mb} if whole else {"tablespace_mb": disk_mb}
    phases: dict[str, tuple[float, float]] = {}
    fill_at = accepted_after_fill = 0.0
    marks: dict[int, str] = {}
    with cluster(port=PG_PORT, **layout) as pg:
        url = create_app_database(pg)
        process_id, codes = draw_codes(url, 2000)
        server = Gunicorn(app_env(url), PORT, workers=workers)
        server.start()
        try:
            pids_before = sorted(server.worker_pids())
            load = MixedLoad(PORT, process_id, codes, clients=clients, vote_every=2)
            load.start()

            def at(fraction: float) -> float:
                while load.now() < seconds * fraction:
                    time.sleep(0.05)
                return load.now()

            t = at(0.12)
            filled, fill_at = pg.fill(), t
            marks[int(t)] = f"disk filled ({filled >> 20} MiB filler)"
            # Writes go on into the free room of pages PostgreSQL already has; the disk is full
            # for the app from the first write that needs a new page.
            deadline = time.monotonic() + 60
            while load.first(t, "write", "503") is None and time.monotonic() < deadline:
                time.sleep(0.05)
            full_from = load.first(t, "write", "503") or load.now()
            accepted_after_fill = load.outcomes(t, full_from, "write").get("ok", 0)
            marks.setdefault(int(full_from), "first write refused")
            while load.now() < full_from + seconds * 0.2:
                time.sleep(0.05)
            t = load.now()
            pg.free()
            phases["full"] = (full_from, t)
            marks[int(t)] = "filler removed"
            running_after_full = pg.running()
            if not running_after_full:
                marks[int(t)] += "; PostgreSQL had stopped: started again by hand"
                pg.start()
            at((t / seconds) + 0.15)
            t = load.now()
            pg.psql("ALTER SYSTEM SET default_transaction_read_only = on")
            pg.psql("SELECT pg_reload_conf()")
            marks[int(t)] = "read-only on"
            ro_from = load.now()
            t = at((t / seconds) + 0.2)
            pg.psql("ALTER SYSTEM RESET default_transaction_read_only")
            pg.psql("SELECT pg_reload_conf()")
            phases["read-only"] = (ro_from, t)
            marks[int(t)] = "read-only off"
            at((t / seconds) + 0.15)
            load.stop()
            pids_after = sorted(server.worker_pids())
            server_log = server.log_text()
        finally:
            server.stop()
        box = ballot_box(pg, "participation", process_id)
        checked, corrupt = amcheck(pg, "participation")
        pg_log = pg.log_tail(400)

    write_back = {name: (load.first(end, "write") or float("inf")) - end for name, (_s, end) in phases.items()}
    during = {name: (load.outcomes(s, e, "write"), load.outcomes(s, e, "read")) for name, (s, e) in phases.items()}
    five_hundreds = load.tally.total("500")
    panics = pg_log.count("PANIC")
    checks = {
        f"no 500 answer ({five_hundreds})": five_hundreds == 0,
        **{f"{name}: writes refused with 503 ({w.get('503', 0)} of {sum(w.values())})": w.get("503", 0) > 0
           for name, (w, _r) in during.items()},
        **{f"{name}: writes back {write_back[name]:.1f} s after" : write_back[name] < 10 for name in phases},
        f"read-only: reads still served ({during['read-only'][1].get('ok', 0)} ok)":
            during["read-only"][1].get("ok", 0) > 0,
        f"no worker died or was replaced ({pids_before} -> {pids_after})": pids_before == pids_after,
        "no traceback in gunicorn's log": "Traceback" not in server_log,
        f"amcheck: {checked} B-tree indexes (with their tables) clean {corrupt}": checked > 0 and not corrupt,
        **voters_check(load, box),
    }
    if not whole:  # the data disk full: PostgreSQL refuses the writes and stays up
        checks[f"full: reads still served ({during['full'][1].get('ok', 0)} ok)"] = during["full"][1].get("ok", 0) > 0
        checks[f"PostgreSQL stayed up (PANIC in its log: {panics})"] = running_after_full and panics == 0
    print(f"Disk full and read-only under load — {started}, gunicorn {workers} gthread workers x 4 threads, "
          f"APP_ENV=production, own PostgreSQL cluster, {'whole cluster' if whole else 'app tablespace'} on a "
          f"{disk_mb} MiB tmpfs; {clients} client threads for {seconds} s")
    print(f"answers: {load.tally.total('ok')} ok, {load.tally.total('503')} 503, {five_hundreds} 500, "
          f"{load.tally.total('other')} other, {load.tally.total('conn')} failed connections; "
          f"voters {len(load.voters)}, ballots stored {box['ballots']}")
    print(f"after the fill, {accepted_after_fill} writes still fitted in pages PostgreSQL had; "
          f"the first refusal came {phases['full'][0] - fill_at:.1f} s after the fill")
    for name, (w, r) in during.items():
        s, e = phases[name]
        print(f"{name} for {e - s:.1f} s: writes {w}, reads {r}; writes served again {write_back[name]:.1f} s after")
    errors = sorted({line.split("ERROR:", 1)[1].strip()[:90] for line in pg_log.splitlines() if "ERROR:" in line})
    print(f"PostgreSQL's log: {panics} PANIC; errors such as: {errors[:4]}")
    print("per second:\n" + load.tally.table(marks))
    return verdict(checks, server, server_log)


if __name__ == "__main__":
    argv = sys.argv[1:]
    whole = "--whole" in argv
    args = [int(a) for a in argv if a != "--whole"]
    sys.exit(main(whole, *(args + [70, 3, 12][len(args):])))
