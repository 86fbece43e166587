#!/usr/bin/env python3
"""The soak's latency target: webhook p95 < 150 ms outside the fault windows.

    python3 tests/bench/bench_soak.py [--rate 15] [--agent-interval 2] [soak options]

Runs ``tests/soak/soak.py`` (two Odoo servers, one PostgreSQL, every fault,
every correctness check) with its load paced: the clients deliver at
``--rate`` deliveries a second together (default 15, about 1.3 million a day,
some 130 times the README's sizing example of 1,000 leads a day), and each
agent acts once every ``--agent-interval`` seconds (default 2), as a busy
salesperson. The soak alone sends flat out (a closed loop that saturates a
small machine); this script judges the latency under a rate a deployment
meets. Other options go to the soak (``--requests``, ``--from-db``, ...).
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "soak"))
import soak  # noqa: E402


class Pacing:
    """Each client and agent on a fixed schedule of its own, started at a
    random point of its first interval (not all at the same instant); a
    request late behind a slow answer leaves at once."""

    def __init__(self, client_interval, agent_interval, label):
        self.client_interval, self.agent_interval, self.label = client_interval, agent_interval, label

    def client(self):
        return _schedule(self.client_interval)

    def agent(self):
        return _schedule(self.agent_interval)


def _schedule(interval):
    first = time.time() + random.random() * interval

    def pace(n):
        wait = first + n * interval - time.time()
        if wait > 0:
            time.sleep(wait)  # the benchmark's load: deliveries at a set rate
    return pace


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--rate", type=float, default=15.0, help="deliveries a second, all clients together")
    parser.add_argument("--agent-interval", type=float, default=2.0, help="seconds between two actions of an agent")
    args, rest = parser.parse_known_args(argv)
    if "--p95-ms" not in rest:
        rest += ["--p95-ms", "150"]
    clients = soak.parse_args(rest).clients
    pacing = Pacing(clients / args.rate, args.agent_interval,
                    "%g deliveries/s, agents every %g s" % (args.rate, args.agent_interval))
    return soak.main(rest, pacing)


if __name__ == "__main__":
    sys.exit(main())
