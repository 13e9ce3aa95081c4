"""kill -9 of gunicorn workers during a vote burst: no ballot lost, none doubled.

On a PostgreSQL cluster of its own (bench/_pgcluster.py), with the demo and N fresh voter codes,
gunicorn as in production (APP_ENV=production, gthread workers). Every voter first opens the
slip's URL and the ballot (the form, with its one-time nonce); then all of them send it at once
from C client threads. When a third and two thirds of the voters are through, one worker is
killed with SIGKILL (gunicorn starts another). A voter whose request failed (connection reset,
refused, answer cut short, 5xx) sends the same form again, as a browser's retry or a person's
back-and-send does: the same nonce, so a ballot that was recorded before the kill is found again
("already recorded"), not cast a second time.

At the end: every voter got a receipt; the receipts are unique; the database holds exactly one
ballot and one who-voted row per voter and every receipt given; no ballot without its choices;
no answer was a 500; the workers were replaced. PASS or FAIL (exit 1). Only 127.0.0.1 is
contacted. Needs root (a throwaway cluster is made, run as the postgres user).

`--open`: the same with the vote in open mode (no code: a cookie set in the voter's browser
tells their ballot). A retry whose first answer was lost never got that cookie, so the
browser has to have it before it sends the form. Usage:
    .venv/bin/python bench/resilience_vote_kill.py [--open] [voters=400] [workers=3] [clients=24] [kills=2]
"""
from __future__ import annotations

import http.client
import os
import random
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pgcluster import (verdict, RECEIPT_RE, Browser, Gunicorn, Tally, amcheck, app_env, ballot_box,  # noqa: E402
                        ballot_form, classify, cluster, create_app_database, draw_codes)

PORT = 8871
PG_PORT = 54329
MAX_SECONDS_PER_VOTER = 60


def vote(browser: Browser, process_id: int, body: str, tally: Tally) -> dict:
    """Send the form until the server confirms it; the confirmation page's receipt and flags."""
    attempts, failures = 0, []
    end = time.monotonic() + MAX_SECONDS_PER_VOTER
    while time.monotonic() < end:
        attempts += 1
        try:
            status, location, _page, _h = browser.request("POST", f"/b/{process_id}/vote", body)
        except (OSError, http.client.HTTPException) as e:
            tally.add("conn")
            failures.append(type(e).__name__)
            time.sleep(0.2)
            continue
        tally.add(classify(status))
        if status == 302 and location and location.endswith("/voted"):
            break
        failures.append(str(status))
        if status < 500:  # a refusal (the form is wrong): retrying would not help
            return {"receipt": None, "attempts": attempts, "failures": failures}
        time.sleep(0.2)
    else:
        return {"receipt": None, "attempts": attempts, "failures": failures}
    # The confirmation page (its answer may be cut by a kill too: reading it again is harmless).
    while time.monotonic() < end:
        try:
            status, _loc, page, _h = browser.request("GET", f"/b/{process_id}/voted?lang=en")
        except (OSError, http.client.HTTPException):
            tally.add("conn")
            time.sleep(0.2)
            continue
        tally.add(classify(status))
        found = RECEIPT_RE.search(page)
        if status == 200 and found:
            return {"receipt": found.group(1), "attempts": attempts, "failures": failures,
                    "again": "already recorded" in page, "replaced": "replaces your previous ballot" in page}
        time.sleep(0.2)
    return {"receipt": None, "attempts": attempts, "failures": failures}


def main(open_vote: bool, voters: int, workers: int, clients: int, kills: int) -> int:
    started = time.strftime("%Y-%m-%d %H:%M")
    with cluster(port=PG_PORT) as pg:
        url = create_app_database(pg)
        process_id, codes = draw_codes(url, voters, open_vote)
        if open_vote:
            codes = [None] * voters
        server = Gunicorn(app_env(url), PORT, workers=workers)
        server.start()
        try:
            browsers = [Browser(PORT) for _ in codes]
            with ThreadPoolExecutor(8) as pool:  # the forms, before the burst
                bodies = list(pool.map(lambda bc: ballot_form(bc[0], process_id, bc[1]), zip(browsers, codes)))
            tally = Tally()
            results: list[dict] = []
            lock = threading.Lock()
            todo = iter(range(voters))
            killed: list[tuple[int, float, float]] = []  # (pid, second, seconds until replaced)

            def client():
                for i in todo:
                    r = vote(browsers[i], process_id, bodies[i], tally)
                    with lock:
                        results.append(r)

            def killer():
                for k in range(kills):
                    target = voters * (k + 1) // (kills + 1)
                    while len(results) < target and len(results) < voters:
                        time.sleep(0.005)
                    if len(results) >= voters:
                        return
                    pids = server.worker_pids()
                    victim = random.choice(pids)
                    at = time.monotonic()
                    os.kill(victim, signal.SIGKILL)
                    replaced = server.wait_for_workers(30, gone=victim)
                    killed.append((victim, at - tally.start, time.monotonic() - at if replaced else float("inf")))

            t0 = time.monotonic()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            kt = threading.Thread(target=killer)
            for t in (*threads, kt):
                t.start()
            for t in (*threads, kt):
                t.join()
            elapsed = time.monotonic() - t0
            workers_after = len(server.worker_pids())
        finally:
            server.stop()
        box = ballot_box(pg, "participation", process_id)
        checked, corrupt = amcheck(pg, "participation")

    receipts = [r["receipt"] for r in results if r["receipt"]]
    unconfirmed = [r for r in results if not r["receipt"]]
    retried = [r for r in results if r["attempts"] > 1]
    again = sum(1 for r in results if r.get("again"))
    replaced = sum(1 for r in results if r.get("replaced"))
    stored = set(box["receipts"])
    lost = [r for r in receipts if r not in stored]
    extra = [r for r in stored if r not in set(receipts)]
    five_hundreds = tally.total("500")
    checks = {
        f"every voter confirmed ({len(receipts)}/{voters})": len(receipts) == voters,
        "receipts unique": len(set(receipts)) == len(receipts),
        f"ballots stored == voters ({box['ballots']})": box["ballots"] == voters,
        f"who-voted rows == voters ({box['records']})": box["records"] == voters,
        f"no receipt lost ({len(lost)})": not lost,
        f"no ballot without a confirmed voter ({len(extra)})": not extra,
        f"no ballot without its choices ({box['ballots_without_choices']})": box["ballots_without_choices"] == 0,
        f"no ballot replaced by a retry ({replaced})": replaced == 0,
        f"no 500 answer ({five_hundreds})": five_hundreds == 0,
        f"{kills} workers killed and replaced": len(killed) == kills and all(s < 30 for _p, _a, s in killed),
        f"{workers} workers running at the end ({workers_after})": workers_after == workers,
        f"amcheck: {checked} B-tree indexes (with their tables) clean {corrupt}": checked > 0 and not corrupt,
    }
    mode = "open vote, browser cookie" if open_vote else "voter codes"
    print(f"Vote burst with kill -9 ({mode}) — {started}, gunicorn {workers} gthread workers x 4 threads, "
          f"APP_ENV=production, PostgreSQL (own cluster, fsync on); {clients} client threads")
    print(f"{voters} voters in {elapsed:.1f} s; requests: {tally.total('ok')} ok, {tally.total('503')} 503, "
          f"{tally.total('500')} 500, {tally.total('other')} other, {tally.total('conn')} failed connections")
    for pid, at, took in killed:
        print(f"killed worker {pid} at {at:.1f} s; a new worker was up {took:.2f} s later")
    print(f"voters who had to send again: {len(retried)}; of them answered 'already recorded' (the ballot had "
          f"been stored before the kill): {again}; unconfirmed: {len(unconfirmed)}")
    print("per second:\n" + tally.table({int(at): "kill -9" for _p, at, _t in killed}))
    return verdict(checks, server)


if __name__ == "__main__":
    argv = sys.argv[1:]
    args = [int(a) for a in argv if a != "--open"]
    sys.exit(main("--open" in argv, *(args + [400, 3, 24, 2][len(args):])))
