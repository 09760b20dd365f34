-- rule: AT-02
-- severity: warning
-- title: 服务报告文件名不规范
-- explain: 现场技术服务报告的文件名必须同时包含工单号和客户名称。
-- clause: 第5部分 4.3 2)
-- Every ticket type (Decision); known tickets, closed or not. Substrings compared after NFKC on
-- both sides. Several bad reports of one ticket give one finding listing them.
with reports as (
    select
        w.ticket_no,
        w.region,
        a.file_name,
        strpos(normalize(a.file_name, nfkc), normalize(w.ticket_no, nfkc)) > 0 as has_ticket,
        strpos(normalize(a.file_name, nfkc), normalize(w.customer_name, nfkc)) > 0 as has_customer
    from netcare_attachments as a
    inner join netcare_workorders as w on w.ticket_no = a.ticket_no
    where a.kind = '现场技术服务报告'
),

final as (
    select
        r.region,
        r.ticket_no,
        jsonb_build_object(
            'files', jsonb_agg(
                jsonb_build_object(
                    'file_name', r.file_name,
                    'has_ticket_no', r.has_ticket,
                    'has_customer', r.has_customer
                ) order by r.file_name
            )
        ) as details
    from reports as r
    where not (r.has_ticket and r.has_customer)
    group by r.region, r.ticket_no
)

select * from final
