-- mart.acceptance_todo and mart.revenue moved out of V030 into include/sql/functions/, which the
-- runner re-creates after the migrations on every run: drop the migration-owned versions (a
-- warehouse migrated before V030 was last changed still holds an older body).
drop function if exists mart.acceptance_todo(date);
drop function if exists mart.revenue(date);
