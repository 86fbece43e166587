"""Helpers shared by the benchmark scripts."""
import os
import time


def cpu_clock(cr):
    """CPU seconds used so far by this process and by its PostgreSQL backend.

    On a shared machine the wall time of a phase depends on what else runs;
    the CPU both sides of the connection spent on it does much less.  The
    backend is read in /proc (same machine); None when it is not readable.
    """
    cr.execute("SELECT pg_backend_pid()")
    try:
        with open("/proc/%d/stat" % cr.fetchone()[0]) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None
    return time.process_time() + backend
