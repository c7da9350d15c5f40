#!/usr/bin/env python3
"""Fixtures for storekit's configstore, made and checked by Python itself.

The Python original (cledar.redis RedisConfigStore) keeps one Redis list per
configuration key (prefix + key): every update RPUSHes
``json.dumps(dataclasses.asdict(value))``, the newest entry is last, the
version is LLEN, and fetch reads ``LINDEX key -1`` into ``cls(**json.loads(s))``.
A key holding a plain string (written by anyone with SET) is version 1, and
the next update converts it into a list of two: GET old, DEL, RPUSH old new.
This script runs that write path, ported line by line (PyConfigStore below),
against a dict standing in for Redis, with the standard library only.

Usage:

    python3 make_fixtures.py write [DIR]  # DIR defaults to fixtures/ beside this script
    python3 make_fixtures.py check DIR    # checks the layout Go wrote into DIR

``write`` runs OPERATIONS through the Python store and writes DIR/layout.json,
the Redis keys as the Python store leaves them: for each key either

    {"type": "list", "entries": [json.dumps(asdict(v)), ...]}  # RPUSH order, newest last
    {"type": "string", "value": json.dumps(asdict(v))}         # a plain key set by SET

The Go tests (configstore/python_test.go) load it into Redis and read it with
configstore, and regenerate it to check it is current.

``check`` reads DIR/layout.json, the keys Go left in Redis after doing the
same OPERATIONS with configstore.Update (and SET for plain keys), in the same
shape, and checks every key as the Python store reads it: version = LLEN (1
for a plain string), latest = the last entry, ``cls(**json.loads(entry))``
works for every entry, and every entry is byte for byte what Python's
``json.dumps(asdict(...))`` writes, both for the object it reads back (the
comparison Python's identical-value check makes) and for the value the
operation wrote. The keys of NOT_BYTE_IDENTICAL, if any, are documented
exceptions and must still differ exactly as stated, so that the limitation
stays pinned. It prints one line per key and "python check: all cases ok",
or exits 1.

Keys are full Redis keys without the test's namespace; the part before the
first colon is the prefix of a store of one model (MODELS).
"""

import dataclasses
import json
import os
import sys
from typing import Any, Optional


# --- the Python original's model and store ------------------------------------


@dataclasses.dataclass
class BaseConfigClass:
    """cledar.redis.model.BaseConfigClass, verbatim: an empty marker."""


@dataclasses.dataclass
class ExampleConfig(BaseConfigClass):
    """cledar.redis.example.ExampleConfig."""

    name: str
    index: int
    data: dict


@dataclasses.dataclass
class RichConfig(BaseConfigClass):
    """A richer configuration: nested dicts and lists, non-ASCII text,
    floats, bools and None."""

    title: str
    enabled: bool
    ratio: float
    threshold: Optional[float]
    owner: Optional[str]
    tags: list
    limits: dict
    nested: dict


# One store per model, told apart by its prefix: RedisConfigStore(redis, prefix=...).
MODELS = {"example:": ExampleConfig, "rich:": RichConfig}


def model_of(key: str) -> tuple:
    """The (prefix, model) of a full key."""
    for prefix, cls in MODELS.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return prefix, cls
    raise KeyError("key %r has none of the prefixes %s" % (key, sorted(MODELS)))


class FakeRedis:
    """The Redis commands the store uses, on a dict of bytes and lists of
    bytes, returning bytes as redis-py does with decode_responses=False."""

    def __init__(self) -> None:
        self.data: dict = {}

    @staticmethod
    def _b(v: Any) -> bytes:
        return v if isinstance(v, bytes) else str(v).encode()  # redis-py's Encoder, for str

    def type(self, k: str) -> bytes:
        v = self.data.get(k)
        return b"none" if v is None else b"list" if isinstance(v, list) else b"string"

    def get(self, k: str) -> Optional[bytes]:
        v = self.data.get(k)
        assert not isinstance(v, list), "WRONGTYPE GET %s" % k
        return v

    def set(self, k: str, v: Any) -> None:
        self.data[k] = self._b(v)

    def delete(self, k: str) -> None:
        self.data.pop(k, None)

    def rpush(self, k: str, *vs: Any) -> int:
        lst = self.data.setdefault(k, [])
        assert isinstance(lst, list), "WRONGTYPE RPUSH %s" % k
        lst.extend(self._b(v) for v in vs)
        return len(lst)

    def lindex(self, k: str, i: int) -> Optional[bytes]:
        lst = self.data.get(k, [])
        return lst[i] if -len(lst) <= i < len(lst) else None

    def llen(self, k: str) -> int:
        return len(self.data.get(k, []))


class PyConfigStore:
    """The read and write paths of RedisConfigStore, ported line by line
    (without the cache, the watcher and the connection-error fallbacks)."""

    def __init__(self, redis: FakeRedis, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = prefix or ""

    def _key_type(self, key: str) -> str:
        return self._redis.type(key).decode()

    def _key_fetch(self, key: str) -> Optional[str]:
        k = self._prefix + key
        t = self._key_type(k)
        if t == "list":
            raw = self._redis.lindex(k, -1)
        elif t == "string":
            raw = self._redis.get(k)
        else:
            return None
        return raw.decode() if raw is not None else None

    def _key_versions(self, key: str) -> int:
        k = self._prefix + key
        t = self._key_type(k)
        if t == "list":
            return self._redis.llen(k)
        if t == "string":
            return 1
        return 0

    def versions(self, key: str) -> int:
        return self._key_versions(key)

    def fetch(self, cls: type, key: str) -> Any:
        raw = self._key_fetch(key)
        if raw is None:
            return None
        return cls(**json.loads(raw))

    def update(self, key: str, value: Any) -> str:
        k = self._prefix + key
        t = self._key_type(k)
        new = json.dumps(dataclasses.asdict(value))
        # The original's "identical, skipping" check, verbatim: it compares
        # with a JSON string literal of the stored text (and adds the prefix
        # twice), so it never matches and every update writes.
        if new == json.dumps(self._key_fetch(k)):
            return new
        if t in ("list", "none"):
            self._redis.rpush(k, new)
        elif t == "string":
            old = self._redis.get(k)
            self._redis.delete(k)
            self._redis.rpush(k, old, new)
        return new


def dumps(value: Any) -> str:
    """What the store writes for value."""
    return json.dumps(dataclasses.asdict(value))


# --- the configurations ---------------------------------------------------------

APP = [
    ExampleConfig(name="app", index=0, data={}),
    ExampleConfig(name="app", index=1, data={"feature": True, "limit": 10}),
    ExampleConfig(name="app", index=2, data={"feature": False, "limit": 20, "owners": ["ana", "bo"]}),
]
SINGLE = ExampleConfig(name="single", index=7, data={"mode": "fast"})
LEGACY = ExampleConfig(name="legacy", index=1, data={"source": "SET"})
CONVERTED = [
    ExampleConfig(name="converted", index=1, data={"source": "SET"}),
    ExampleConfig(name="converted", index=2, data={"source": "update"}),
]
UNICODE = [
    ExampleConfig(name="Zażółć gęślą jaźń", index=1, data={"city": "Kraków"}),
    ExampleConfig(
        name="Zażółć gęślą jaźń \U0001F680",
        index=2,
        data={"city": "Kraków", "greeting": "こんにちは", "quote": '"q" \\ \t\n <>&', "ключ": "значение"},
    ),
]
SERVICE = [
    RichConfig(title="service", enabled=False, ratio=0.5, threshold=None, owner=None, tags=[], limits={}, nested={}),
    RichConfig(
        title="Usługa \u2014 café \u2615 \U0001F680",
        enabled=True,
        ratio=0.25,
        threshold=-12.75,
        owner="Zoë",
        tags=["α", "β", "emoji \U0001F389"],
        limits={"burst": 5, "rate": 2.5, "timeout": 0.001},
        nested={
            "a": {"b": [1, 2.5, "x", None, True, False, {"c": []}]},
            "empty": {},
            "pi": 3.141592653589793,
            "z": None,
        },
    ),
]
# An integral float: Python writes 1.0, and so does Go.
FLOAT_INTEGRAL = RichConfig(
    title="integral float", enabled=True, ratio=1.0, threshold=None, owner=None, tags=[], limits={}, nested={}
)
# A dict in insertion order, not sorted, as Python code builds one: Go reads
# it into a map and writes the keys sorted. The same value, other bytes.
UNORDERED = ExampleConfig(name="unordered", index=3, data={"ratio": 2.0, "limit": 10, "feature": True})

# Keys whose entries Go writes otherwise, as (Python's text, Go's text).
NOT_BYTE_IDENTICAL = {
    "example:unordered": (
        '"data": {"ratio": 2.0, "limit": 10, "feature": true}',
        '"data": {"feature": true, "limit": 10, "ratio": 2.0}',
    ),
}

# What a Python service does, in order: ("update", key, value) through the
# store of the key's prefix, or ("set", key, value), a plain SET of the same
# JSON by anyone else. The Go test does the same with configstore, plus one
# more update of APP[2] that configstore finds identical and skips: the
# original's identical check never matches, so Python would append it again.
# Updating every key with the value read from it writes nothing in Go,
# example:unordered included (the Go test TestPyIdenticalUpdate).
OPERATIONS = [
    ("update", "example:app", APP[0]),
    ("update", "example:app", APP[1]),
    ("update", "example:app", APP[2]),
    ("update", "example:single", SINGLE),
    ("set", "example:legacy", LEGACY),
    ("set", "example:converted", CONVERTED[0]),
    ("update", "example:converted", CONVERTED[1]),
    ("update", "example:unicode", UNICODE[0]),
    ("update", "example:unicode", UNICODE[1]),
    ("update", "example:unordered", UNORDERED),
    ("update", "rich:service", SERVICE[0]),
    ("update", "rich:service", SERVICE[1]),
    ("update", "rich:float_integral", FLOAT_INTEGRAL),
]


def go_exact(v: Any, where: str = "value") -> Optional[str]:
    """Why Go's encoder (codec.JSON) would not write v's JSON byte for byte
    as json.dumps does, or None. Go writes floats as float.__repr__ does,
    and a number it reads into an interface (a dict's values here) keeps its
    text; but it writes a map's keys sorted, where a dict keeps its order."""
    if isinstance(v, dict):
        if list(v) != sorted(v):
            return "%s: keys %s are not sorted, Go sorts them" % (where, list(v))
        for k, x in v.items():
            r = go_exact(x, "%s[%r]" % (where, k))
            if r:
                return r
    if isinstance(v, list):
        for i, x in enumerate(v):
            r = go_exact(x, "%s[%d]" % (where, i))
            if r:
                return r
    return None


def run(operations: list) -> FakeRedis:
    """Runs operations through the Python store and returns the Redis it leaves."""
    redis = FakeRedis()
    stores = {prefix: PyConfigStore(redis, prefix) for prefix in MODELS}
    for op, key, value in operations:
        prefix, cls = model_of(key)
        assert isinstance(value, cls), (key, value)
        if op == "update":
            stores[prefix].update(key[len(prefix):], value)
        elif op == "set":
            redis.set(key, dumps(value))
        else:
            raise ValueError(op)
    return redis


def layout(redis: FakeRedis) -> dict:
    """The keys of redis in the layout file's shape."""
    out = {}
    for key, v in redis.data.items():
        if isinstance(v, list):
            out[key] = {"type": "list", "entries": [e.decode() for e in v]}
        else:
            out[key] = {"type": "string", "value": v.decode()}
    return out


def write(out: str) -> None:
    for op, key, value in OPERATIONS:
        # A dataclass is a Go struct: its fields keep their order.
        fields = dataclasses.asdict(value)
        reason = next(filter(None, (go_exact(v, "%s.%s" % (key, k)) for k, v in fields.items())), None)
        if key in NOT_BYTE_IDENTICAL:
            assert reason, "%s is meant to show a difference but Go would write it exactly" % key
        else:
            assert not reason, "%s: Go would not write %r byte for byte: %s" % (key, value, reason)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "layout.json"), "w") as f:
        json.dump(layout(run(OPERATIONS)), f, indent=2)
        f.write("\n")


# --- checking what Go wrote -----------------------------------------------------


def read_layout(path: str) -> dict:
    with open(path, "rb") as f:
        keys = json.load(f)
    if not isinstance(keys, dict):
        raise ValueError("%s: not a JSON object of keys" % path)
    for key, spec in keys.items():
        ok = isinstance(spec, dict) and (
            (spec.get("type") == "list" and set(spec) == {"type", "entries"}
             and isinstance(spec["entries"], list) and spec["entries"]
             and all(isinstance(e, str) for e in spec["entries"]))
            or (spec.get("type") == "string" and set(spec) == {"type", "value"} and isinstance(spec["value"], str))
        )
        if not ok:
            raise ValueError("%s: key %r: not {type: list, entries: [str, ...]} or {type: string, value: str}: %r"
                             % (path, key, spec))
    return keys


def entries_of(spec: dict) -> list:
    return spec["entries"] if spec["type"] == "list" else [spec["value"]]


def check_key(key: str, got: dict, want: dict) -> list:
    """The failures of key, which Go left as got and Python as want."""
    prefix, cls = model_of(key)
    if got["type"] != want["type"]:
        return ["Redis type %s, Python leaves %s" % (got["type"], want["type"])]
    redis = FakeRedis()
    if got["type"] == "list":
        redis.rpush(key, *got["entries"])
    else:
        redis.set(key, got["value"])
    store = PyConfigStore(redis, prefix)
    short = key[len(prefix):]
    entries, wants = entries_of(got), entries_of(want)
    fails = []
    version = store.versions(short)
    if version != len(entries) or version != len(wants):
        fails.append("version (LLEN) %d, Python's is %d" % (version, len(wants)))
    try:
        latest = store.fetch(cls, short)
        if latest != cls(**json.loads(wants[-1])):
            fails.append("latest %r, Python's is %s" % (latest, wants[-1]))
    except Exception as exc:  # noqa: BLE001 - report any failure to read
        fails.append("fetch: %r" % exc)
    for n, (entry, py) in enumerate(zip(entries, wants), 1):
        try:
            obj = cls(**json.loads(entry))
        except Exception as exc:  # noqa: BLE001
            fails.append("version %d: %s(**json.loads(%r)): %r" % (n, cls.__name__, entry, exc))
            continue
        if dumps(obj) != entry:
            fails.append("version %d: Go wrote %r, Python writes %r for the object it reads" % (n, entry, dumps(obj)))
        if obj != cls(**json.loads(py)):
            fails.append("version %d: reads %r, Python wrote %r" % (n, obj, py))
        elif key in NOT_BYTE_IDENTICAL:
            py_text, go_text = NOT_BYTE_IDENTICAL[key]
            if entry == py:
                fails.append("version %d: now byte-identical to Python's %r: move it out of NOT_BYTE_IDENTICAL" % (n, py))
            elif entry != py.replace(py_text, go_text):
                fails.append("version %d: Go wrote %r, expected Python's %r with %s for %s" % (n, entry, py, go_text, py_text))
        elif entry != py:
            fails.append("version %d: Go wrote %r, Python writes %r" % (n, entry, py))
    return fails


def check(src: str) -> int:
    got = read_layout(os.path.join(src, "layout.json"))
    want = layout(run(OPERATIONS))
    failed = 0
    for key in sorted(set(got) | set(want)):
        if key not in want:
            fails = ["Go wrote a key Python does not"]
        elif key not in got:
            fails = ["Go did not write this key"]
        else:
            fails = check_key(key, got[key], want[key])
        if fails:
            failed += 1
            for f in fails:
                print("FAIL %s: %s" % (key, f))
            continue
        n = len(entries_of(got[key]))
        note = " (not byte-identical, as documented: %s for %s)" % NOT_BYTE_IDENTICAL[key][::-1] \
            if key in NOT_BYTE_IDENTICAL else ""
        print("ok   %s: %s, version %d%s" % (key, got[key]["type"], n, note))
    print("python check: %d key(s) failed" % failed if failed else "python check: all cases ok")
    return 1 if failed else 0


def main(argv: list) -> int:
    if len(argv) >= 2 and argv[1] == "write" and len(argv) <= 3:
        write(argv[2] if len(argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        try:
            return check(argv[2])
        except (OSError, ValueError) as exc:
            print("python check: cannot read Go's layout: %s" % exc)
            return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
