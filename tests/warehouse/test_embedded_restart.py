"""An embedded server killed mid-run comes back (issue 13, run bookkeeping): the next step's
`pipeline.engine()` starts it again on the same data folder and finds what was committed before the
kill, instead of failing every retry on a dead socket. Uses an embedded server of its own (a data
area in tmp), never the suite's shared one."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
import sqlalchemy as sa

from fieldrecon import pipeline
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.db


@pytest.fixture()
def own_server(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDRECON_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    monkeypatch.setenv("FIELDRECON_DB", "restart_test")
    connection.engine.cache_clear()
    yield tmp_path / "pgdata"
    connection.engine.cache_clear()
    server = connection.embedded_server(tmp_path / "pgdata")
    proc = server.get_postmaster_info().process
    os.kill(proc.pid, signal.SIGINT)  # fast shutdown of the test's own server
    try:
        proc.wait(timeout=120)
    except psutil.NoSuchProcess:
        pass


def test_killed_embedded_server_is_started_again_with_its_committed_data(own_server):
    eng = pipeline.engine()
    with eng.begin() as c:
        c.execute(sa.text("create table committed_before_kill (n int)"))
        c.execute(sa.text("insert into committed_before_kill values (1), (2)"))
    postmaster = connection.embedded_server(own_server).get_postmaster_info().process
    dead = postmaster.pid
    os.kill(dead, signal.SIGKILL)
    try:  # the kill lands when the kernel gets to it: reconnect only once the server is gone
        postmaster.wait(timeout=120)
    except psutil.NoSuchProcess:
        pass

    eng = pipeline.engine()
    with eng.connect() as c:
        assert c.execute(sa.text("select count(*) from committed_before_kill")).scalar_one() == 2
    assert connection.embedded_server(own_server).get_postmaster_info().pid != dead
