-- Reading notes per file (NUL bytes or undecodable bytes replaced, duplicated or empty headers,
-- implausible values): warnings for the run summary, never silent. Landing entries that are not
-- regular files (symlinks, folders) are registered as refused.
alter table ops.files add column if not exists notes jsonb;
alter table ops.files drop constraint if exists files_status_check;
alter table ops.files add constraint files_status_check
check (status in ('pending', 'loaded', 'rejected', 'repeat', 'unrecognised', 'refused'));
