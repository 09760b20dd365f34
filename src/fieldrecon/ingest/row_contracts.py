"""Row-level data contracts with Great Expectations, built as code at task run time.

For one source the suite says: required columns are not null, enum columns hold only the
contract's values, coordinates lie within ±90/±180 and hours in (0, 24]. Validation runs on the
typed frame of one file; each failed expectation's unexpected rows become quarantine reasons.
GX is imported lazily (about 5 s) so DAG parsing never pays for it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldrecon.contract import Source

log = logging.getLogger(__name__)
RANGE_CHECKS = {"lng": (-180, 180, False), "lat": (-90, 90, False), "hours": (0, 24, True)}


@dataclass
class Problem:
    column: str
    reason_code: str
    reason_zh: str
    mask: np.ndarray


_context = None
_context_lock = threading.Lock()


def gx_context():
    with _context_lock:
        return _context or _make_context()


def _make_context():
    global _context
    if _context is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _context.data_sources.add_pandas("extracts")
    return _context


def build_suite(source: Source, present: set[str]):
    """The source's expectations for the columns this file has (all required ones are present)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"{source.name}_rows")
    meta: list[tuple[str, str, str]] = []
    for c in source.columns:
        if c.name not in present:
            continue
        if c.required:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=c.name))
            meta.append(("expect_column_values_to_not_be_null", c.name, "empty", f"必填列「{c.header}」为空"))
        if c.enum:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.enum)))
            meta.append(("expect_column_values_to_be_in_set", c.name, "unknown_enum", f"「{c.header}」的值不在允许范围（{'/'.join(c.enum)}）"))
    for check in source.checks:
        col, kind = check.split(":")
        if col not in present:
            continue
        lo, hi, strict_min = RANGE_CHECKS[kind]
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi, strict_min=strict_min)
        )
        header = source.column(col).header
        bound = f"({lo}, {hi}]" if strict_min else f"[{lo}, {hi}]"
        meta.append(("expect_column_values_to_be_between", col, "out_of_range", f"「{header}」超出范围 {bound}"))
    return suite, meta


def validate(source: Source, frame: pd.DataFrame, present: set[str], file_label: str) -> list[Problem]:
    """Run the suite on one file's typed frame; return one Problem per failed expectation."""
    import great_expectations as gx

    ctx = gx_context()
    suite, meta = build_suite(source, present)
    ds = ctx.data_sources.get("extracts")
    asset_name = f"{file_label}"
    asset = ds.add_dataframe_asset(asset_name)
    try:
        batch_def = asset.add_batch_definition_whole_dataframe("whole_file")
        suite = ctx.suites.add_or_update(suite)
        vd = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"{file_label}_validation", data=batch_def, suite=suite)
        )
        result = vd.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})
    finally:
        for cleanup in (
            lambda: ctx.validation_definitions.delete(f"{file_label}_validation"),
            lambda: ctx.suites.delete(suite.name),
            lambda: ds.delete_asset(asset_name),
        ):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - best effort: the context is ephemeral
                pass
    by_expectation = {(r.expectation_config.type, r.expectation_config.kwargs["column"]): r for r in result.results}
    problems: list[Problem] = []
    for type_, column, code, zh in meta:
        r = by_expectation[(type_, column)]
        if r.success:
            continue
        idx = r.result.get("unexpected_index_list") or []
        mask = np.zeros(len(frame), dtype=bool)
        mask[np.asarray(idx, dtype=int)] = True
        problems.append(Problem(column, code, zh, mask))
    return problems
