-- Working-day arithmetic, the only place weekdays are looked at: a day the calendar does not
-- know falls back to Mon-Fri (the run raises CAL-01 for such years, see calendar.py).
create or replace function ops.is_working_day(p_day date)
returns boolean
language sql stable
as $$
    select coalesce(
        (select c.is_working from ops.calendar_days as c where c.day = p_day),
        extract(isodow from p_day) < 6
    )
$$;

-- The N-th working day strictly after p_day (rulebook: "N working days after D").
create or replace function ops.working_days_after(p_day date, p_n integer)
returns date
language sql stable
as $$
    with candidates as (
        select d::date as day, row_number() over (order by d) as n
        from generate_series(p_day + 1, p_day + 30 + p_n * 3, interval '1 day') as d
        where ops.is_working_day(d::date)
    )

    select day from candidates where n = p_n
$$;

-- p_day itself when it is a working day, else the next one ("节假日顺延").
create or replace function ops.next_working_day(p_day date)
returns date
language sql stable
as $$
    select min(d::date)
    from generate_series(p_day, p_day + 40, interval '1 day') as d
    where ops.is_working_day(d::date)
$$;

-- Years the calendar knows; anything else is a Mon-Fri fallback year (CAL-01).
create or replace view ops.calendar_years as
select extract(year from day)::integer as year, count(*) as days, min(source) as source
from ops.calendar_days
group by 1;
