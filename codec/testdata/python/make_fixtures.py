#!/usr/bin/env python3
"""Fixtures for storekit's codec, made and checked by Python itself.

The Python original (cledar.redis) writes a value with
``RedisService.set``: models are dumped (``model_dump``), dicts and lists go
through ``json.dumps(..., cls=CustomEncoder)`` with the default settings, and
everything else goes to redis-py, which stores ``str`` and ``bytes`` as they
are, ``int`` and ``float`` as ``repr(v)``, and rejects the rest. This script
does exactly that with the standard library only (dataclasses stand in for
Pydantic models; ``dataclasses.asdict`` keeps enum and datetime members as
objects, as ``model_dump`` does).

Usage:

    python3 make_fixtures.py write [DIR]  # DIR defaults to fixtures/ beside this script
    python3 make_fixtures.py check DIR    # checks the values Go wrote into DIR

``write`` writes one file per case, NAME.value, holding the bytes Redis
would hold after the Python original's ``set``, and floats.txt, lines of
``float.hex() repr()`` that pin down Python's float formatting. The Go tests
read them (codec/python_test.go) and regenerate them to check they are
current.

``check`` reads the files NAME.value that the Go tests wrote and checks each
one as the Python original would read it: it must decode to the expected
value, and for the cases marked exact it must be byte for byte what Python
itself writes for that value. It prints one line per case and exits 1 if any
case fails.
"""

import dataclasses
import json
import math
import os
import random
import struct
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum, IntEnum
from typing import Any, Optional


# --- the Python original's encoding ---------------------------------------


class CustomEncoder(json.JSONEncoder):
    """cledar.redis.CustomEncoder, verbatim."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Enum):
            return o.name.lower()
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def prepare(value: Any) -> Any:
    """RedisService._prepare_for_serialization, with dataclasses as models."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [prepare(v) for v in value]
    if isinstance(value, dict):
        return {k: prepare(v) for k, v in value.items()}
    return value


def redis_value(value: Any) -> bytes:
    """The bytes Redis holds after RedisService.set(key, value)."""
    processed = prepare(value)
    if isinstance(processed, (dict, list)):
        return json.dumps(processed, cls=CustomEncoder).encode()
    # redis-py's Encoder.encode
    if isinstance(processed, bytes):
        return processed
    if isinstance(processed, bool) or processed is None:
        raise TypeError("redis.DataError: invalid input of type %s" % type(processed).__name__)
    if isinstance(processed, (int, float)):
        return repr(processed).encode()
    if isinstance(processed, str):
        return processed.encode()
    raise TypeError("redis.DataError: invalid input of type %s" % type(processed).__name__)


# --- models ------------------------------------------------------------------


class Color(Enum):
    # Pydantic validates an Enum field by value, and the original writes the
    # lowercased name: values equal to the lowercased names read back.
    RED = "red"
    GREEN = "green"
    DARK_BLUE = "dark_blue"


class Status(Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Priority(IntEnum):
    # An IntEnum is an int: json writes its value, not its name.
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class User:
    user_id: int
    name: str


@dataclasses.dataclass
class Profile:
    user_id: int
    name: str
    color: Color
    status: Status
    priority: Priority
    created: datetime
    updated: datetime
    tags: list
    attrs: dict
    score: float
    nickname: Optional[str]


@dataclasses.dataclass
class Event:
    at: datetime
    what: str


@dataclasses.dataclass
class Measurement:
    """Floats in every place a model holds them."""

    name: str
    value: float
    big: float
    small: float
    samples: list
    extra: dict


def load_user(d: Any) -> User:
    assert isinstance(d, dict) and set(d) == {"user_id", "name"}, d
    assert type(d["user_id"]) is int and type(d["name"]) is str, d
    return User(**d)


def load_profile(d: Any) -> Profile:
    assert isinstance(d, dict), d
    assert [f.name for f in dataclasses.fields(Profile)] == list(d), list(d)
    return Profile(
        user_id=d["user_id"],
        name=d["name"],
        color=Color(d["color"]),
        status=Status(d["status"]),
        priority=Priority(d["priority"]),
        created=datetime.fromisoformat(d["created"]),
        updated=datetime.fromisoformat(d["updated"]),
        tags=d["tags"],
        attrs=d["attrs"],
        score=float(d["score"]),
        nickname=d["nickname"],
    )


def load_event(d: Any) -> Event:
    assert isinstance(d, dict) and list(d) == ["at", "what"], d
    return Event(at=datetime.fromisoformat(d["at"]), what=d["what"])


def load_measurement(d: Any) -> Measurement:
    assert isinstance(d, dict), d
    assert [f.name for f in dataclasses.fields(Measurement)] == list(d), list(d)
    for k in ("value", "big", "small"):
        # A float field must come back a float, not an int: 2.0, not 2.
        assert type(d[k]) is float, (k, d[k])
    return Measurement(**d)


UTC = timezone.utc
PLUS2 = timezone(timedelta(hours=2))
MINUS0530 = timezone(-timedelta(hours=5, minutes=30))

PROFILE = Profile(
    user_id=42,
    name="Ada",
    color=Color.DARK_BLUE,
    status=Status.ACTIVE,
    priority=Priority.HIGH,
    created=datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    updated=datetime(2025, 6, 30, 23, 59, 59),
    tags=["admin", "ops"],
    attrs={"flags": [True, False, None], "level": 3, "nested": {"k": "v"}, "ratio": 0.25},
    score=2.5,
    nickname=None,
)

UNICODE_USER = User(
    3,
    'Zażółć gęślą jaźń \U0001F680 "q" \\ \t\n\r\b\f \x00\x1f\x7f <>& \u2028\u2029 \ufeff\uffff',
)

# Floats as json.dumps writes them (float.__repr__): a point or an exponent
# always, so that json.loads reads a float back, never an int.
MEASUREMENT = Measurement(
    name="m",
    value=2.0,
    big=1e16,
    small=1e-05,
    samples=[1.0, 0.5, -0.0, 1e22, 123456.789],
    extra={"count": 3, "mean": 3.0},
)

# Dict keys are sorted in the cases below that Go must write back byte for
# byte: Go writes a map's keys sorted, Python in insertion order.
BIG_INTS = {
    "huge": 10**30,
    "max_int64": 2**63 - 1,
    "min_int64_minus_1": -(2**63) - 1,
    "two_pow_53_plus_1": 2**53 + 1,
    "two_pow_64": 2**64,
}
FLOATS_IN_JSON = {
    "big": 1e16,
    "list": [1.0, 2.5, 1e-05, 1e22, 0.30000000000000004],
    "negative_zero": -0.0,
    "small": 1e-05,
    "tenth": 0.1,
    "whole": 2.0,
}
NONFINITE_IN_JSON = {"inf": math.inf, "list": [math.nan, 1.5, -math.inf], "nan": math.nan, "neg_inf": -math.inf}

EVENTS = [
    Event(datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC), "utc"),
    Event(datetime(2025, 1, 1, 12, 30, 0, 500000, tzinfo=PLUS2), "plus two"),
    Event(datetime(2024, 2, 29, 8, 15, 30, 1, tzinfo=MINUS0530), "leap day"),
    Event(datetime(1, 1, 1, 0, 0, 0), "min naive"),
    Event(datetime(9999, 12, 31, 23, 59, 59, 999999), "max naive"),
]


# --- cases Python writes and Go reads -----------------------------------------

WRITE_CASES = {
    "user": User(1, "Alice"),
    "users": [User(1, "Alice"), User(2, "Bob")],
    "profile": PROFILE,
    "profile_float_fields": dataclasses.replace(PROFILE, score=100.0, attrs={"big": 1e16, "small": 1e-05, "int": 7}),
    "unicode_user": UNICODE_USER,
    "events": EVENTS,
    "dict": {"b": 1, "a": [1, 2.5, "x", None, True], "c": {}, "d": {"e": [[]]}},
    "string": "hello",
    "unicode_string": "zażółć \U0001F680",
    "json_string": '{"user_id": 7, "name": "Grace"}',
    "bytes": b"\x00\x01\xfe\xffraw",
    "int": 5,
    "negative_int": -17,
    "max_int64": 2**63 - 1,
    "two_pow_64": 2**64,
    "float": 1.5,
    "float_integral": 100.0,
    "float_big": 1e16,
    "float_small": 1e-05,
    "float_negative_zero": -0.0,
    "float_inf": math.inf,
    "float_nan": math.nan,
    "nan_in_json": {"x": math.nan},
    "infinity_in_json": {"x": -math.inf},
    "big_ints": BIG_INTS,
    "floats_in_json": FLOATS_IN_JSON,
    "nonfinite_in_json": NONFINITE_IN_JSON,
    "measurement": MEASUREMENT,
}


def float_cases() -> list:
    """Doubles whose repr the Go encoder must reproduce."""
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 100.0, 1e15, 1e16, 1e17, 9999999999999998.0,
            1234567890123456.0, 12345678901234567.0, 0.0001, 0.00001, 0.000123, 1e-05, 1e-4,
            5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.30000000000000004,
            1 / 3, 2 / 3, math.pi, math.e, 123456.789, 1e21, 1e22, 1e100, 1e-100]
    for k in range(-20, 24):
        vals += [10.0**k, 1.5 * 10.0**k, -(10.0**k) * 7.25]
    rng = random.Random(20260101)
    while len(vals) < 1000:
        (x,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(x):
            vals.append(x)
        vals.append(round(rng.uniform(-1e6, 1e6), rng.randrange(0, 8)))
        vals.append(rng.randrange(-(2**53), 2**53) * 2.0 ** rng.randrange(-60, 60))
    return vals


def write(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name, value in WRITE_CASES.items():
        with open(os.path.join(out, name + ".value"), "wb") as f:
            f.write(redis_value(value))
    with open(os.path.join(out, "floats.txt"), "w") as f:
        for x in float_cases():
            f.write("%s %s\n" % (x.hex(), repr(x)))


# --- cases Go writes and Python checks ----------------------------------------

# name: (expected value, how the original reads it, exact)
# exact: the bytes must equal what Python itself writes for the value.
CHECK_CASES = {
    "user": (User(1, "Alice"), lambda b: load_user(json.loads(b)), True),
    "users": ([User(1, "Alice"), User(2, "Bob")], lambda b: [load_user(d) for d in json.loads(b)], True),
    "profile": (PROFILE, lambda b: load_profile(json.loads(b)), True),
    "profile_float_fields": (
        dataclasses.replace(PROFILE, score=100.0, attrs={"big": 1e16, "int": 7, "small": 1e-05}),
        lambda b: load_profile(json.loads(b)),
        True,
    ),
    "measurement": (MEASUREMENT, lambda b: load_measurement(json.loads(b)), True),
    "big_ints": (BIG_INTS, json.loads, True),
    "floats_in_json": (FLOATS_IN_JSON, json.loads, True),
    "nonfinite_in_json": (NONFINITE_IN_JSON, json.loads, True),
    "nan_in_json": ({"x": math.nan}, json.loads, True),
    "infinity_in_json": ({"x": -math.inf}, json.loads, True),
    "unicode_user": (UNICODE_USER, lambda b: load_user(json.loads(b)), True),
    "events": (EVENTS, lambda b: [load_event(d) for d in json.loads(b)], True),
    "dict": ({"a": [1, 2.5, "x", None, True], "b": 1, "c": {}, "d": {"e": [[]]}}, json.loads, True),
    "string": ("hello", bytes.decode, True),
    "unicode_string": ("zażółć \U0001F680", bytes.decode, True),
    "bytes": (b"\x00\x01\xfe\xffraw", bytes, True),
    "int": (5, int, True),
    "negative_int": (-17, int, True),
    "max_int64": (2**63 - 1, int, True),
    "float": (1.5, float, True),
    "float_integral": (100.0, float, True),
    "float_big": (1e16, float, True),
    "float_small": (1e-05, float, True),
    "float_negative_zero": (-0.0, float, True),
    "float_inf": (math.inf, float, True),
    "float_nan": (math.nan, float, True),
    # Python's redis-py refuses a bool; Go writes true/false, which json.loads reads.
    "bool": (True, json.loads, False),
    "enum": (Color.DARK_BLUE, lambda b: Color(b.decode()), False),
    "naive_time": (datetime(2025, 1, 1, 0, 0, 0), lambda b: datetime.fromisoformat(b.decode()), False),
    "aware_time": (
        datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        lambda b: datetime.fromisoformat(b.decode()),
        False,
    ),
}


def same(a: Any, b: Any) -> bool:
    """a == b, with NaN equal to NaN, -0.0 told apart from 0.0 and an int
    from a float, in lists, dicts and dataclasses too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return same(dataclasses.asdict(a), dataclasses.asdict(b))
    return a == b


def check_case(src: str, name: str, written: set) -> Optional[str]:
    """Returns what is wrong with the value Go wrote for name, or None."""
    if name not in CHECK_CASES:
        return "Go wrote a case this script does not know"
    if name not in written:
        return "Go did not write this case"
    want, load, exact = CHECK_CASES[name]
    with open(os.path.join(src, name + ".value"), "rb") as f:
        got = f.read()
    try:
        value = load(got)
    except Exception as exc:  # noqa: BLE001 - report any failure to read
        return "Python cannot read %r: %r" % (got, exc)
    if not same(value, want):
        return "read %r, want %r" % (value, want)
    if exact and got != redis_value(want):
        return "wrote %r, Python writes %r" % (got, redis_value(want))
    return None


def check(src: str) -> int:
    failed = 0
    written = {f[: -len(".value")] for f in os.listdir(src) if f.endswith(".value")}
    for name in sorted(written | set(CHECK_CASES)):
        problem = check_case(src, name, written)
        if problem:
            print("FAIL %s: %s" % (name, problem))
            failed += 1
        else:
            print("ok   %s" % name)
    print("python check: %d case(s) failed" % failed if failed else "python check: all cases ok")
    return 1 if failed else 0


def main(argv: list) -> int:
    if len(argv) >= 2 and argv[1] == "write" and len(argv) <= 3:
        write(argv[2] if len(argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
