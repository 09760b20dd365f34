-- rule: DQ-02
-- severity: warning
-- title: 局点缺少经纬度
-- explain: 非涉密局点缺少经度或纬度，无法检查打卡距离（PD-05）。
-- clause: 数据质量（第5部分 4.2(2) 3公里规则的前提）
-- Every work order, punched or not, of any type (the rulebook names no type exception), whose
-- 是否涉密 is not 是 (empty = 否) and which lacks either coordinate.
with final as (
    select
        w.region,
        w.ticket_no,
        jsonb_build_object(
            'ticket_type', w.ticket_type,
            'missing', case
                when w.site_lng is null and w.site_lat is null then 'both'
                when w.site_lng is null then 'site_lng'
                else 'site_lat'
            end
        ) as details
    from netcare_workorders as w
    where coalesce(w.classified, false) = false
        and (w.site_lng is null or w.site_lat is null)
)

select * from final
