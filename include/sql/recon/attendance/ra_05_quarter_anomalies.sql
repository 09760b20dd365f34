-- rule: RA-05
-- severity: error
-- title: 连续3个月考勤异常超过{ra05_max_quarter_anomalies}次
-- explain: 驻场工程师连续3个自然月未消除的考勤异常合计超过{ra05_max_quarter_anomalies}次，厂商可能要求更换人员。
-- clause: 第6部分 4.2(3) 注意
-- Evaluated for every month from the engineer's first attendance month to the business date's month,
-- summing it and the two months before; subject month = the last of the three. "More than" strict.
with params as (
    select cast(:ra05_max_quarter_anomalies as integer) as max_anomalies
),

over_limit as (
    select
        m.*,
        lag(m.anomalies, 1) over w as prev1,
        lag(m.anomalies, 2) over w as prev2
    from engineer_months as m
    window w as (partition by m.engineer_id order by m.month_start)
),

final as (
    select
        e.region,
        o.engineer_id,
        o.month,
        jsonb_build_object(
            'count', o.anomalies_3m,
            'months', jsonb_build_object(
                to_char(o.month_start - interval '2 months', 'YYYY-MM'), coalesce(o.prev2, 0),
                to_char(o.month_start - interval '1 month', 'YYYY-MM'), coalesce(o.prev1, 0),
                o.month, o.anomalies
            )
        ) as details
    from over_limit as o
    cross join params as p
    left join timesheet_engineers as e on e.engineer_id = o.engineer_id
    where o.in_ra05_range
        and o.anomalies_3m > p.max_anomalies
)

select * from final
