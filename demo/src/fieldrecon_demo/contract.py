"""The extract contract as the demo generator needs it (headers, kinds, titles).

Self-contained on purpose: the generator writes files *to* the contract in
``shared/spec/extracts.md`` and must not depend on the loader that reads them.

Column kinds drive the formatting quirks:

- ``id``     text key-like value; now and then padded with spaces or written full-width
- ``text``   free text
- ``enum``   one of the contract's values
- ``dt``     datetime (two text styles, Excel datetimes and Excel serials in xlsx)
- ``date``   date (two text styles, Excel dates in xlsx)
- ``time``   ``HH:MM`` text
- ``dec``    decimal number
- ``amt``    amount (now and then text with thousands separators)
- ``int``    integer
- ``coord``  WGS-84 degree
- ``bool``   是/否
- ``refs``   ``;``-separated ticket numbers
"""

from __future__ import annotations

# (header, kind, required)
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "netcare_workorders": [
        ("工单号", "id", True),
        ("工单类型", "enum", True),
        ("工单状态", "enum", True),
        ("服务级别", "enum", False),
        ("产品线", "text", False),
        ("区域", "text", True),
        ("客户名称", "text", True),
        ("局点地址", "text", False),
        ("局点经度", "coord", False),
        ("局点纬度", "coord", False),
        ("是否涉密", "bool", False),
        ("合同号", "text", False),
        ("创建时间", "dt", True),
        ("MSD派单时间", "dt", False),
        ("FSIP派发时间", "dt", False),
        ("要求到达时间", "dt", False),
        ("预约到达时间", "dt", False),
        ("FSE工号", "id", False),
        ("FSE姓名", "text", False),
        ("派单人天", "dec", False),
        ("授权开始时间", "dt", False),
        ("授权结束时间", "dt", False),
        ("关单申请时间", "dt", False),
        ("关单时间", "dt", False),
        ("PO号", "id", False),
    ],
    "netcare_punches": [
        ("打卡记录ID", "id", True),
        ("工单号", "id", True),
        ("工号", "id", True),
        ("姓名", "text", False),
        ("打卡类型", "enum", True),
        ("打卡时间", "dt", True),
        ("经度", "coord", False),
        ("纬度", "coord", False),
        ("打卡地址", "text", False),
        ("打卡方式", "enum", False),
    ],
    "timesheet_entries": [
        ("填报ID", "id", True),
        ("工号", "id", True),
        ("姓名", "text", False),
        ("工作日期", "date", True),
        ("工单号", "id", False),
        ("PO号", "id", False),
        ("项目编码", "text", False),
        ("工时", "dec", True),
        ("工作类型", "enum", False),
        ("工作内容", "text", False),
        ("审批状态", "enum", True),
        ("填报时间", "dt", False),
    ],
    "timesheet_engineers": [
        ("工号", "id", True),
        ("姓名", "text", True),
        ("区域", "text", True),
        ("产品线", "text", False),
        ("技能等级", "text", False),
        ("手机号", "text", False),
        ("在职状态", "enum", False),
    ],
    "isc_po_lines": [
        ("PO号", "id", True),
        ("PO行号", "int", True),
        ("合同号", "text", False),
        ("服务类型", "enum", True),
        ("物料描述", "text", False),
        ("区域", "text", True),
        ("客户名称", "text", False),
        ("数量", "dec", True),
        ("单位", "enum", False),
        ("单价", "amt", False),
        ("行金额", "amt", True),
        ("税率", "dec", False),
        ("服务开始日期", "date", False),
        ("服务结束日期", "date", False),
        ("PO下发日期", "date", True),
        ("PO状态", "enum", True),
        ("关联工单号", "refs", False),
    ],
    "isc_acceptances": [
        ("验收单号", "id", True),
        ("PO号", "id", True),
        ("PO行号", "int", True),
        ("验收周期开始", "date", False),
        ("验收周期结束", "date", False),
        ("验收数量", "dec", False),
        ("验收金额", "amt", True),
        ("提交日期", "date", False),
        ("审批状态", "enum", True),
        ("审批日期", "date", False),
        ("驳回原因", "text", False),
        ("备注", "text", False),
    ],
    "netcare_rfcs": [
        ("RFC单号", "id", True),
        ("标题", "text", False),
        ("状态", "enum", True),
        ("风险分值", "int", False),
        ("风险等级", "enum", False),
        ("区域", "text", True),
        ("客户名称", "text", False),
        ("提交时间", "dt", True),
        ("PM审批完成时间", "dt", False),
        ("计划开始时间", "dt", False),
        ("计划完成时间", "dt", False),
        ("方案审核通过时间", "dt", False),
        ("延期审批状态", "enum", False),
        ("延期审批时间", "dt", False),
        ("回溯提交时间", "dt", False),
    ],
    "netcare_rfc_tasks": [
        ("任务单号", "id", True),
        ("RFC单号", "id", True),
        ("任务状态", "enum", True),
        ("实施人工号", "id", False),
        ("保障人工号", "id", False),
        ("授权开始时间", "dt", False),
        ("授权结束时间", "dt", False),
        ("实际开始时间", "dt", False),
        ("验证时间", "dt", False),
        ("实际完成时间", "dt", False),
        ("保障人完成时间", "dt", False),
    ],
    "netcare_resident_attendance": [
        ("工单号", "id", True),
        ("工号", "id", True),
        ("姓名", "text", False),
        ("考勤日期", "date", True),
        ("班次上班", "time", True),
        ("班次下班", "time", True),
        ("上班打卡", "dt", False),
        ("下班打卡", "dt", False),
        ("请假类型", "enum", False),
        ("请假审批状态", "enum", False),
        ("异常电子流状态", "enum", False),
        ("异常电子流审批时间", "dt", False),
    ],
    "netcare_attachments": [
        ("工单号", "id", True),
        ("附件类型", "enum", True),
        ("文件名", "text", True),
        ("上传时间", "dt", False),
        ("上传人", "text", False),
    ],
}

SOURCES: tuple[str, ...] = tuple(COLUMNS)

KEYS: dict[str, tuple[str, ...]] = {
    "netcare_workorders": ("工单号",),
    "netcare_punches": ("打卡记录ID",),
    "timesheet_entries": ("填报ID",),
    "timesheet_engineers": ("工号",),
    "isc_po_lines": ("PO号", "PO行号"),
    "isc_acceptances": ("验收单号",),
    "netcare_rfcs": ("RFC单号",),
    "netcare_rfc_tasks": ("任务单号",),
    "netcare_resident_attendance": ("工单号", "工号", "考勤日期"),
    "netcare_attachments": ("工单号", "附件类型", "文件名"),
}

TITLES: dict[str, str] = {
    "netcare_workorders": "NetCare 工单导出",
    "netcare_punches": "NetCare 打卡记录导出",
    "timesheet_entries": "工时系统2.0 工时填报导出",
    "timesheet_engineers": "工时系统2.0 人员信息导出",
    "isc_po_lines": "ISC PO行明细导出",
    "isc_acceptances": "ISC 验收记录导出",
    "netcare_rfcs": "NetCare 变更单导出",
    "netcare_rfc_tasks": "NetCare 变更任务导出",
    "netcare_resident_attendance": "NetCare 驻场考勤导出",
    "netcare_attachments": "NetCare 工单附件清单",
}

ENUMS: dict[str, tuple[str, ...]] = {
    "工单类型": ("现场问题处理", "巡检", "整改", "单次现场服务", "事件值守", "高级软件现场支持", "驻场", "POC"),
    "工单状态": ("待派发", "已派发", "履行中", "待审核", "已关闭", "已取消", "已驳回"),
    "服务级别": ("小时级", "非小时级"),
    "打卡类型": ("出发", "到达", "开始", "暂停", "离场", "完成", "验证", "倒回"),
    "打卡方式": ("APP", "人脸识别"),
    "工作类型": ("现场", "远程", "差旅", "培训", "其他"),
    "审批状态(工时)": ("草稿", "已提交", "已审批", "已驳回"),
    "在职状态": ("在职", "离职"),
    "服务类型": ("维保", "驻场", "巡检", "整改", "单次", "交付", "POC", "用云支持"),
    "单位": ("月", "人天", "台", "次", "项"),
    "PO状态": ("已下发", "已接收", "部分验收", "已验收", "已关闭", "已取消"),
    "审批状态(验收)": ("草稿", "审批中", "已通过", "已驳回"),
    "状态(RFC)": ("草稿", "PM审批", "PSE评审", "客户审批", "实施", "完成", "完成失败", "取消", "超期关闭"),
    "风险等级": ("Low", "Medium", "High", "Fatal"),
    "延期审批状态": ("无", "审批中", "已通过", "已驳回"),
    "任务状态": ("未开始", "准备", "实施中", "完成", "完成失败", "取消"),
    "请假类型": ("事假", "病假", "年假", "调休", "婚假", "产假", "陪产假", "丧假", "育儿假", "加班"),
    "请假审批状态": ("审批中", "已通过", "已驳回"),
    "异常电子流状态": ("无", "审批中", "已通过", "已驳回"),
    "附件类型": (
        "现场技术服务报告", "信息收集包", "健康检查报告", "TD审批邮件", "巡检完成证明", "整改清单",
        "整改前信息采集包", "整改后信息采集包", "单次人天日报", "驻场服务交付报告", "售前测试报告", "其他",
    ),
}

REQUIRED_ATTACHMENTS: dict[str, tuple[str, ...]] = {
    "巡检": ("信息收集包", "健康检查报告", "TD审批邮件", "现场技术服务报告"),
    "整改": ("现场技术服务报告", "整改清单", "整改前信息采集包", "整改后信息采集包"),
    "单次现场服务": ("现场技术服务报告", "单次人天日报"),
    "事件值守": ("现场技术服务报告", "单次人天日报"),
    "高级软件现场支持": ("现场技术服务报告", "单次人天日报"),
    "现场问题处理": ("现场技术服务报告",),
    "驻场": ("驻场服务交付报告",),
    "POC": ("售前测试报告",),
}


def headers(source: str) -> list[str]:
    return [h for h, _, _ in COLUMNS[source]]


def required_headers(source: str) -> list[str]:
    return [h for h, _, req in COLUMNS[source] if req]


def kinds(source: str) -> dict[str, str]:
    return {h: k for h, k, _ in COLUMNS[source]}
