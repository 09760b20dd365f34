-- rule: RA-04
-- severity: error
-- title: 月度考勤异常超过{ra04_max_month_anomalies}次
-- explain: 驻场工程师一个自然月内未消除的考勤异常超过{ra04_max_month_anomalies}次（上下班各算一次），需提交改进计划。
-- clause: 第6部分 4.2(3) 注意
-- Per engineer across resident tickets, per calendar month of the 考勤日期; "more than" strict.
-- Region: the engineer master's (empty for an unknown engineer).
with params as (
    select cast(:ra04_max_month_anomalies as integer) as max_anomalies
),

over_limit as (
    select m.*
    from engineer_months as m
    cross join params as p
    where m.anomalies > p.max_anomalies
),

final as (
    select
        e.region,
        o.engineer_id,
        o.month,
        jsonb_build_object(
            'count', o.anomalies,
            'missing', o.missing_count,
            'late', o.late_count,
            'early', o.early_count
        ) as details
    from over_limit as o
    left join timesheet_engineers as e on e.engineer_id = o.engineer_id
)

select * from final
