"""Simplified Chinese and English for every page and message.

Text is written in English in the code and templates; ``ZH`` gives its Chinese. Chinese is the
default language; the language switch sets a cookie.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LANG_COOKIE = "pds-lang"

ZH: dict[str, str] = {
    "Public Data Sandbox": "公共数据沙箱",
    "Open public data, under control": "公共数据开放与授权运营平台",
    "Home": "首页",
    "Catalog": "数据目录",
    "Applications": "我的申请",
    "Grants": "授权",
    "Reviews": "审核",
    "Audit": "审计",
    "Admin": "管理",
    "Publish": "发布数据",
    "Log in": "登录",
    "Log out": "退出",
    "Language": "语言",
    "Welcome": "欢迎",
    "Signed in as": "当前用户",
    "Your roles": "您的角色",
    "researcher": "研究人员",
    "operator": "授权运营单位",
    "owner": "数据提供方",
    "officer": "安全审核员",
    "admin": "平台管理员",
    "Search datasets": "搜索数据集",
    "Search": "搜索",
    "Publisher": "提供部门",
    "Theme": "主题",
    "Level": "分级",
    "Open class": "开放类型",
    "unconditional": "无条件开放",
    "restricted": "受限开放",
    "prohibited": "禁止开放",
    "datasets found": "个数据集",
    "Description": "描述",
    "Keywords": "关键词",
    "Temporal coverage": "时间范围",
    "Spatial coverage": "空间范围",
    "Update frequency": "更新频率",
    "Licence": "许可协议",
    "Contact": "联系方式",
    "Issued": "发布日期",
    "Modified": "更新日期",
    "Version": "版本",
    "Columns": "字段",
    "Column": "字段",
    "Entity found": "识别出的个人信息",
    "Download": "下载",
    "Apply for access": "申请使用",
    "Assessment report": "安全评估报告",
    "New application": "新建申请",
    "Datasets": "数据集",
    "Purpose": "用途",
    "Project description": "项目说明",
    "Intended products": "拟开发的数据产品",
    "Team members (user names, comma separated)": "团队成员（用户名，逗号分隔）",
    "Requested level": "申请的访问级别",
    "Start": "开始日期",
    "End": "结束日期",
    "Privacy budget (ε)": "隐私预算 (ε)",
    "Apply as": "申请主体",
    "person": "个人",
    "organisation": "单位",
    "Organisation": "单位名称",
    "Unified social credit code": "统一社会信用代码",
    "I accept the data-use agreement (开放利用协议)": "我同意《公共数据开放利用协议》",
    "I make the security commitment": "我承诺遵守数据安全要求",
    "Save draft": "保存草稿",
    "Submit": "提交",
    "Withdraw": "撤回",
    "Status": "状态",
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
    "approved": "已批准",
    "rejected": "已拒绝",
    "withdrawn": "已撤回",
    "Decisions": "审核意见",
    "Approve": "批准",
    "Reject": "拒绝",
    "Return for changes": "退回修改",
    "Comment": "意见",
    "Waiting for": "待审核",
    "Review queue": "待审核申请",
    "Nothing waiting for you.": "暂无待办。",
    "Holder": "持有人",
    "Members": "成员",
    "Term": "期限",
    "active": "有效",
    "suspended": "已暂停",
    "revoked": "已撤销",
    "expired": "已到期",
    "destroyed": "已销毁",
    "Suspend": "暂停",
    "Reinstate": "恢复",
    "Revoke": "撤销",
    "End grant": "结束授权",
    "Reason": "原因",
    "Open workspace": "打开工作区",
    "Usage": "使用情况",
    "Privacy budget": "隐私预算",
    "spent": "已用",
    "remaining": "剩余",
    "Notifications": "通知",
    "No notifications.": "暂无通知。",
    "Audit log": "审计日志",
    "Current checkpoint": "当前签名检查点",
    "Verifier key": "验证公钥",
    "Time": "时间",
    "Type": "类型",
    "Actor": "操作人",
    "Subject": "主体",
    "Object": "对象",
    "Details": "详情",
    "Filter": "筛选",
    "Evidence bundle": "证据包",
    "Users and roles": "用户与角色",
    "Role": "角色",
    "Domain": "范围",
    "Add role": "添加角色",
    "Remove": "移除",
    "Keys": "密钥",
    "Publish a dataset": "发布数据集",
    "File (CSV, Parquet, Excel)": "文件（CSV、Parquet、Excel）",
    "Dataset id": "数据集标识",
    "Title (Chinese)": "标题（中文）",
    "Title (English)": "标题（英文）",
    "Desensitization policy": "脱敏策略",
    "Confirm policy": "确认策略",
    "confirmed": "已确认",
    "not confirmed": "待确认",
    "Error": "错误",
    "Back": "返回",
    "Not found": "未找到",
    "Forbidden": "无权访问",
    "My datasets": "我的数据集",
    "My grants": "我的授权",
    "Browse the catalog of open public data.": "浏览公共数据开放目录。",
    "Apply for restricted data and analyse it in an isolated workspace.": "申请受限数据，并在隔离的工作区中分析。",
    "Publish datasets and decide on applications for them.": "发布数据集，审核针对其的使用申请。",
    "Co-approve sensitive applications, review exports and audit the log.": "会签敏感数据申请，审核数据导出，审计日志。",
    "Manage accounts, roles and keys.": "管理账号、角色与密钥。",
    "Operate data products under an authorization agreement.": "在授权运营协议下开发数据产品。",
    "Anyone may browse the catalog and download open (L1) data.": "任何人都可以浏览目录并下载无条件开放（L1）数据。",
    "Raw data never leaves the domain; every use is on a signed audit record.": "原始数据不出域，数据可用不可见；每一次使用都有签名审计记录。",
    "the data-use agreement": "开放利用协议",
}


def translator(lang: str) -> Callable[[str], str]:
    """``t(text)``: the text in ``lang`` (English text is the key)."""
    if lang == "zh":
        return lambda text: ZH.get(text, text)
    return lambda text: text


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    if accept and accept.lower().startswith("en"):
        return "en"
    return DEFAULT


def message(error: Exception, lang: str) -> str:
    """An error's message in the user's language."""
    if lang == "zh":
        return str(getattr(error, "message_zh", None) or ZH.get(str(error), str(error)))
    return str(error)
