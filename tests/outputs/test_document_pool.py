"""Document workers wherever a run happens: a Celery task runs in a daemonic process (which may not
start children: every resident_reports task failed three times on the Celery stack), a backfill's
concurrent child in a multiprocessing child (which joins its children before any atexit hook, so a
kept pool hung it forever). Both must render and end."""

from __future__ import annotations

import multiprocessing

import pytest

from fieldrecon.outputs import documents

pytestmark = pytest.mark.unit

JOBS = list(range(-3 * documents.IN_PROCESS_BELOW, 0))


def _render_in_child(out) -> None:
    try:
        out.put(sum(documents.map_parallel(abs, JOBS)))
    except Exception as e:  # noqa: BLE001 - the parent asserts on it
        out.put(repr(e))


@pytest.mark.parametrize("daemon", [True, False], ids=["daemonic (Celery task)", "multiprocessing child"])
def test_documents_render_and_the_process_ends(daemon):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_render_in_child, args=(out,), daemon=daemon)
    child.start()
    try:
        assert out.get(timeout=600) == sum(abs(j) for j in JOBS)
        child.join(timeout=600)  # a hang guard only: ending takes a moment
        assert not child.is_alive() and child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
