-- Each source's state as of a run's as_of, computed once and shared by the night's steps
-- (warehouse.asof_state): unlogged tables asof.<source>_<as_of>, commented with the fingerprint of the
-- files they were computed from, dropped when the run ends.
create schema if not exists asof;
