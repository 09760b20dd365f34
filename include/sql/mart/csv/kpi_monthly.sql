-- kpi_monthly.csv: the monthly KPI statistics of the business date exactly as the rulebook names
-- them (region incl. 全部, month, kpi, checked, on_time, rate, target, met), from mart.kpi_monthly
-- (written by the timeliness family). Months in order; per month the regions, 全部 last.
select
    k.region,
    k.month,
    k.kpi,
    k.checked,
    k.on_time,
    k.rate,
    k.target,
    k.met
from mart.kpi_monthly as k
where k.business_date = cast(:business_date as date)
order by
    k.month,
    k.region = '全部',
    k.region,
    array_position(array['dispatch', 'arrival', 'closure', 'po_rejection'], k.kpi)
