"""The soak's processes: one PostgreSQL cluster, a database, Odoo servers.

Everything listens on 127.0.0.1 only; each Odoo server runs in its own
process group so that it can be killed whole (master, HTTP and cron workers)
with SIGKILL, as a crashed machine would be.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from devenv import Cluster, core_addons_path, free_port, odoo_rc, pg_bin  # noqa: E402

ADDONS = ("lead_channels", "lead_distribution", "lead_scoring", "lead_sla")
PY = sys.executable


def log(msg):
    print("[soak %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class SoakCluster(Cluster):
    """devenv's throwaway cluster, plus a fast restart (the soak's fault)."""

    def restart(self):
        subprocess.run(self.as_user + [pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "restart",
                                       "-l", os.path.join(self.dir, "pg.log")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def psql(self, db, sql):
        subprocess.run([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", db,
                        "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, stdout=subprocess.DEVNULL)


def write_config(workdir, cluster):
    rc = odoo_rc()
    conf = {
        "addons_path": ",".join(core_addons_path(rc) + [ROOT]),
        "data_dir": os.path.join(workdir, "data"),
        "db_host": "127.0.0.1", "db_port": str(cluster.port), "db_user": cluster.user,
        "http_interface": "127.0.0.1", "list_db": "False", "without_demo": "False",
        "log_level": "warn", "limit_time_cpu": "120", "limit_time_real": "240",
        "db_maxconn": "8",
    }
    path = os.path.join(workdir, "odoo.conf")
    with open(path, "w") as f:
        f.write("[options]\n" + "".join("%s = %s\n" % kv for kv in conf.items()))
    return path, conf


def install(conf_path, workdir, db):
    """A fresh database with the four addons and demo data."""
    res = subprocess.run([PY, "-m", "odoo", "-c", conf_path, "-d", db, "-i", ",".join(ADDONS),
                          "--stop-after-init", "--log-level=warn"], cwd=workdir, capture_output=True, text=True)
    errors = [line for line in res.stderr.splitlines() if " ERROR " in line or " CRITICAL " in line]
    if res.returncode or errors:
        raise SystemExit("installing the addons failed:\n" + res.stderr[-4000:])


def copy_database(cluster, conf, db, source_dsn, source_filestore):
    """Restore an already installed database (the test run's) instead of installing.

    ``source_dsn``: ``host port user dbname`` of the source; a dump is taken
    in one consistent snapshot, so its users may keep working meanwhile.
    """
    host, port, user, name = source_dsn.split()
    dump = subprocess.Popen([pg_bin("pg_dump"), "-h", host, "-p", port, "-U", user, "-d", name, "-Fc",
                             "--no-owner"], stdout=subprocess.PIPE)
    cluster.psql("postgres", 'CREATE DATABASE "%s"' % db)
    subprocess.run([pg_bin("pg_restore"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", cluster.user,
                    "-d", db, "--no-owner", "-j", "1"], stdin=dump.stdout, check=True,
                   stdout=subprocess.DEVNULL)
    dump.stdout.close()
    if dump.wait():
        raise SystemExit("pg_dump of %s failed" % name)
    if source_filestore and os.path.isdir(source_filestore):
        shutil.copytree(source_filestore, os.path.join(conf["data_dir"], "filestore", db))


def set_password(cluster, db, login, password):
    """Set a login's password straight in the database (hashed as Odoo does)."""
    from passlib.context import CryptContext  # noqa: PLC0415 - Odoo's own dependency
    hashed = CryptContext(["pbkdf2_sha512"]).hash(password)
    cluster.psql(db, "UPDATE res_users SET password = '%s', active = true WHERE login = '%s'" % (hashed, login))


class OdooServer:
    """``odoo -d db --workers=2 --max-cron-threads=1`` on a loopback port."""

    def __init__(self, name, conf_path, db, workdir):
        self.name, self.conf_path, self.db, self.workdir = name, conf_path, db, workdir
        self.port = free_port()
        self.gevent_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.logfile = os.path.join(workdir, "%s.log" % name)
        self.proc = None
        self.starts = 0

    def start(self):
        cmd = [PY, "-m", "odoo", "-c", self.conf_path, "-d", self.db, "--db-filter", "^%s$" % self.db,
               "--http-port", str(self.port), "--gevent-port", str(self.gevent_port),
               "--workers=2", "--max-cron-threads=1", "--logfile", self.logfile,
               # SOAK_LOG_LEVEL=info logs each request with its time and queries
               "--log-level=%s" % os.environ.get("SOAK_LOG_LEVEL", "warn")]
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.starts += 1
        return self

    def wait_ready(self, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                # /web/login loads the registry in the worker that answers it
                if requests.get(self.url + "/web/login", timeout=30).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            try:
                # not listening yet: wait on the server process itself, which
                # also tells at once when it exits instead of starting
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            raise SystemExit("Odoo server %s exited (see %s)" % (self.name, self.logfile))
        raise SystemExit("Odoo server %s did not answer in %d s" % (self.name, timeout))

    def kill(self):
        """SIGKILL to the whole process group: master, HTTP workers, cron worker."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()

    def log_errors(self):
        if not os.path.exists(self.logfile):
            return []
        with open(self.logfile, errors="replace") as f:
            return [line.rstrip() for line in f if " ERROR " in line or " CRITICAL " in line]
