"""Errors of the ``policies`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""


class AccessDenied(Error):
    """The policy does not allow this subject to do this action on this resource."""

    def __init__(self, subject: str, action: str, resource: str) -> None:
        who = subject or "anonymous"
        super().__init__(f"{who} may not {action} this {resource}")
        self.message_zh = f"无权操作：{who} 不能对该{resource}执行 {action}"
        self.subject, self.action, self.resource = subject, action, resource
