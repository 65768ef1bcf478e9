"""A throw-away PostgreSQL cluster for the DuckLake tests: initdb into a temporary folder, a free port,
`pg_ctl stop` at the end. Debian's `postgresql` package (make test installs it when missing) puts the
programs in /usr/lib/postgresql/<version>/bin; PostgreSQL refuses to run as root, so as root the
cluster runs as the package's `postgres` user."""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import uuid

USER = "crmlens"


def _program(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run `make test` (it installs Debian's "
                           "postgresql package) or `apt-get install postgresql`")
    return found


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    @classmethod
    def new(cls) -> Cluster:
        """In a folder of its own under /tmp that the cluster's owner can reach (pytest's are root's only)."""
        folder = pathlib.Path(tempfile.mkdtemp(prefix="crmlens-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        return cls(folder)

    def start(self) -> Cluster:
        _run(_as_owner([_program("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                        "--no-locale"]))
        _run(_as_owner([_program("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                        "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                              "-c max_connections=300 -c fsync=off", "start"]))
        return self

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop(self) -> None:
        subprocess.run(_as_owner([_program("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={USER}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its name."""
        name = "lake_" + uuid.uuid4().hex[:12]
        _run([_program("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
              "-U", USER, "-d", "postgres", "-c", f"create database {name}"])
        return name

    def lake(self, data_path: pathlib.Path) -> tuple[str, str]:
        """(CRMLENS_DB, CRMLENS_DATA_PATH) of a new, empty DuckLake catalog."""
        return f"ducklake:postgres:{self.conninfo(self.new_database())}", str(data_path) + "/"
