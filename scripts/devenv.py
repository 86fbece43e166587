"""Shared helpers of scripts/test and scripts/run: find Odoo and a database."""
import configparser
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable


def log(msg):
    print("[lead-suite] %s" % msg, flush=True)


def our_addons():
    names = sorted(
        name for name in os.listdir(ROOT)
        if os.path.isfile(os.path.join(ROOT, name, "__manifest__.py"))
    )
    only = [n.strip() for n in os.environ.get("ADDONS", "").split(",") if n.strip()]
    return [n for n in names if n in only] if only else names


def odoo_available():
    res = subprocess.run([PY, "-c", "import odoo.release; print(odoo.release.version)"],
                         capture_output=True, text=True, cwd="/")
    return res.stdout.strip() if res.returncode == 0 else None


def odoo_rc():
    for path in (os.environ.get("ODOO_RC"), os.environ.get("OPENERP_SERVER"),
                 os.path.expanduser("~/.odoorc"), os.path.expanduser("~/.openerp_serverrc")):
        if path and os.path.isfile(path):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read(path)
            if parser.has_section("options"):
                return dict(parser.items("options"))
    return {}


def core_addons_path(rc):
    """The Odoo core addons folders: from the config, else next to the package."""
    paths = [p.strip() for p in (rc.get("addons_path") or "").split(",") if p.strip()]
    paths = [p for p in paths if os.path.realpath(p) != os.path.realpath(ROOT)]
    if not paths:
        res = subprocess.run([PY, "-c", "import odoo, os; print(os.path.dirname(odoo.__file__))"],
                             capture_output=True, text=True, cwd="/")
        pkg = res.stdout.strip()
        for candidate in (os.path.join(pkg, "addons"), os.path.join(os.path.dirname(pkg), "addons")):
            if os.path.isdir(candidate):
                paths.append(candidate)
    return paths


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/%s" % name))
    if found:
        return found[-1]
    return shutil.which(name)


class Cluster:
    """A throwaway PostgreSQL cluster on a random loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="leadsuite-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.as_user = []
        if os.getuid() == 0:
            # initdb and postgres refuse to run as root
            os.chmod(self.dir, 0o777)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def start(self):
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            log("PostgreSQL's initdb/pg_ctl not found: install PostgreSQL or set PGHOST")
            sys.exit(2)
        subprocess.run(self.as_user + [initdb, "-D", self.data, "-U", self.user, "--auth=trust",
                                       "-E", "UTF8", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL)
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
                % (self.port, self.dir))
        subprocess.run(self.as_user + [pg_ctl, "-D", self.data, "-o", opts, "-w", "-l",
                                       os.path.join(self.dir, "pg.log"), "start"],
                       check=True, stdout=subprocess.DEVNULL)
        log("PostgreSQL cluster on 127.0.0.1:%d" % self.port)

    def stop(self):
        subprocess.run(self.as_user + [pg_bin("pg_ctl"), "-D", self.data, "-m", "immediate",
                                       "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)




def configured_db(rc):
    """Connection settings of a configured database server, or None."""
    host = os.environ.get("PGHOST") or rc.get("db_host")
    if not host or host == "False":
        return None
    conf = {"db_host": host}
    for key, env in (("db_port", "PGPORT"), ("db_user", "PGUSER"), ("db_password", "PGPASSWORD")):
        value = os.environ.get(env) or rc.get(key)
        if value and value != "False":
            conf[key] = value
    return conf
