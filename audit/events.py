"""Audit events and their canonical JSON, the exact bytes that become a Merkle leaf."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from audit.exceptions import EventError

KEY_ROTATED = "audit.key_rotated"
TAIL_RECOVERED = "audit.tail_recovered"
GRANT_DESTROYED = "grant.destroyed"
RELEASE_PUBLISHED = "release.published"

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_FIELDS = ("actor", "details", "object", "subject", "time", "type")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditEvent:
    """Something that happened to the data: who did what to which subject and object, when."""

    type: str
    actor: str
    subject: str | None = None
    object: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not isinstance(self.actor, str):
            raise EventError("event type and actor are strings")
        if not self.type or not self.actor:
            raise EventError("an audit event needs a type and an actor")
        for name in ("subject", "object"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise EventError(f"event {name} is a string or None")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise EventError("the time of an audit event must be timezone-aware")
        if not isinstance(self.details, Mapping):
            raise EventError("event details must be a mapping")
        object.__setattr__(self, "time", self.time.astimezone(UTC))
        object.__setattr__(self, "details", _normalize(dict(self.details)))
        object.__setattr__(self, "_canonical", None)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and copy) through the JSON form: the details are a read-only mapping."""
        return (AuditEvent.from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (the time as RFC 3339 UTC with microseconds)."""
        return {
            "actor": self.actor,
            "details": _thaw(self.details),
            "object": self.object,
            "subject": self.subject,
            "time": self.time.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "type": self.type,
        }

    def canonical_json(self) -> bytes:
        """RFC 8785 canonical JSON: sorted keys, no spaces, UTF-8 (computed once)."""
        cached: bytes | None = self.__dict__["_canonical"]
        if cached is None:
            cached = self._serialize()
            object.__setattr__(self, "_canonical", cached)
        return cached

    def _serialize(self) -> bytes:
        # The top-level keys are ASCII and fixed, so their canonical order is fixed too.
        details = _thaw(self.details)
        text = _FAST(details) if _is_plain(details) else "".join(_encode(details))
        string = _encode_string
        try:
            return (
                f'{{"actor":{string(self.actor)},"details":{text},'
                f'"object":{"null" if self.object is None else string(self.object)},'
                f'"subject":{"null" if self.subject is None else string(self.subject)},'
                f'"time":"{self.time.isoformat(timespec="microseconds")[:-6]}Z",'
                f'"type":{string(self.type)}}}'
            ).encode()
        except UnicodeEncodeError:
            raise EventError("an audit event holds a lone surrogate, not valid Unicode") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        if not isinstance(data, Mapping) or sorted(data) != list(_FIELDS):
            raise EventError(f"an audit entry has exactly the fields {', '.join(_FIELDS)}")
        try:
            time = datetime.strptime(data["time"], _TIME_FORMAT).replace(tzinfo=UTC)
        except (TypeError, ValueError):
            raise EventError(f"bad event time {data['time']!r}") from None
        for name in ("type", "actor"):
            if not isinstance(data[name], str):
                raise EventError(f"event {name} is not a string")
        for name in ("subject", "object"):
            if data[name] is not None and not isinstance(data[name], str):
                raise EventError(f"event {name} is not a string or null")
        return cls(
            type=data["type"],
            actor=data["actor"],
            subject=data["subject"],
            object=data["object"],
            details=data["details"],
            time=time,
        )

    @classmethod
    def from_json(cls, leaf: bytes, *, check: bool = True) -> AuditEvent:
        """Parse a leaf; it must be exactly the canonical JSON of the event it holds.

        ``check=False`` skips re-serializing to compare, for leaves this package wrote and
        whose hashes are already checked; the event then keeps ``leaf`` as its JSON.
        """
        try:
            data = json.loads(leaf)
        except (UnicodeDecodeError, ValueError):
            raise EventError("an audit entry is not JSON") from None
        event = cls.from_dict(data)
        if not check:
            object.__setattr__(event, "_canonical", bytes(leaf))
        elif event.canonical_json() != leaf:
            raise EventError("an audit entry is not in canonical form")
        return event


def _normalize(value: Any) -> Any:
    """Check that ``value`` is JSON and freeze nested mappings and sequences."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EventError("event details cannot hold NaN or infinity")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventError(f"event detail keys must be strings, not {key!r}")
            out[key] = _normalize(item)
        return MappingProxyType(out)
    if isinstance(value, list | tuple):
        return tuple(_normalize(item) for item in value)
    raise EventError(f"event details must be JSON values, not {type(value).__name__}")


def _thaw(value: Any) -> Any:
    if isinstance(value, MappingProxyType):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


_encode_string = json.encoder.encode_basestring
_FAST = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_json(value: Any) -> bytes:
    """Serialize per RFC 8785 (JCS): keys sorted by UTF-16 code units, ES6 numbers, UTF-8.

    Without floats and keys outside the Basic Multilingual Plane, the standard library's
    sorted, compact output is already canonical, and much faster.
    """
    try:
        if _is_plain(value):
            return _FAST(value).encode()
        return "".join(_encode(value)).encode()
    except UnicodeEncodeError:
        raise EventError("an audit event holds a lone surrogate, not valid Unicode") from None


def _is_plain(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if not (key.isascii() or max(key) <= "\uffff") or not _is_plain(item):
                return False
        return True
    if kind is list:
        return all(_is_plain(item) for item in value)
    return kind is not float


def _encode(value: Any) -> list[str]:
    out: list[str] = []
    _write(value, out)
    return out


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(es6_number(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise EventError(f"not a JSON value: {type(value).__name__}")


def es6_number(value: float) -> str:
    """A finite float as ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise EventError("JSON has no NaN or infinity")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # value = 0.digits × 10**n, with the shortest digits that round-trip (repr)
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    n = len(digits) + int(parts.exponent)
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-")
        text += str(abs(e))
    return sign + text
