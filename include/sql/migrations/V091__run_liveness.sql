-- Who runs a run (issue 14): the process that opened it (host, pid and the process's start time, so a
-- reused pid is not taken for the run) and when it last reported (heartbeat_at, at every step).
-- The next run's prepare marks a 'running' run failed only when it is really dead: its process gone
-- from this host, or no step reported for the lease (FIELDRECON_RUN_LEASE_HOURS).
alter table ops.runs add column host text;
alter table ops.runs add column pid integer;
alter table ops.runs add column pid_started_at double precision;
alter table ops.runs add column heartbeat_at timestamptz;
