"""The small type language of the output contract.

Each type can check a value as a consumer receives it (after the engine's JSON round trip, where
every number is a float), describe itself for docs/outputs.md, and give a `shape`: plain JSON that
snapshots keep and `change_kind` compares.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Type:
    def check(self, value: Any, path: str) -> list[str]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def shape(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Scalar(Type):
    name: str  # string | integer | boolean

    def check(self, value, path):
        ok = {
            "string": isinstance(value, str),
            # JSON numbers come back as floats: 15432.0 is an integer, 1.5 is not.
            "integer": isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer(),
            "boolean": isinstance(value, bool),
        }[self.name]
        return [] if ok else [f"{path}: expected {self.name}, got {type(value).__name__} {value!r:.60}"]

    def describe(self):
        return self.name

    def shape(self):
        return self.name


STRING = Scalar("string")
INTEGER = Scalar("integer")
BOOLEAN = Scalar("boolean")


@dataclass(frozen=True)
class ListOf(Type):
    item: Type

    def check(self, value, path):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        return [e for i, v in enumerate(value) for e in self.item.check(v, f"{path}[{i}]")]

    def describe(self):
        return f"list of {self.item.describe()}"

    def shape(self):
        return {"list": self.item.shape()}


@dataclass(frozen=True)
class MapOf(Type):
    """String keys (what they name, e.g. a service, is `key`) to values of one type."""

    value: Type
    key: str = "string"

    def check(self, value, path):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        return [e for k, v in value.items() for e in self.value.check(v, f"{path}.{k}")]

    def describe(self):
        return f"map {self.key} → {self.value.describe()}"

    def shape(self):
        return {"map": self.value.shape()}


@dataclass(frozen=True)
class Obj(Type):
    """An object with these fields, all present. `open`: more fields may be present (their names
    and types are not part of the contract, e.g. per-app facts that differ between apps)."""

    fields: dict[str, Type]
    open: bool = False
    optional: frozenset[str] = field(default_factory=frozenset)

    def check(self, value, path):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        errors = [f"{path}: missing field {k!r}" for k in self.fields if k not in value and k not in self.optional]
        errors += [e for k, t in self.fields.items() if k in value for e in t.check(value[k], f"{path}.{k}")]
        if not self.open:
            errors += [f"{path}: field {k!r} is not in the contract" for k in value if k not in self.fields]
        return errors

    def describe(self):
        inner = ", ".join(f"{k}{'?' if k in self.optional else ''}: {t.describe()}" for k, t in self.fields.items())
        return "{" + inner + (", …" if self.open else "") + "}"

    def shape(self):
        return {"object": {k: t.shape() for k, t in self.fields.items()}, "open": self.open,
                "optional": sorted(self.optional)}


MAJOR, MINOR = "major", "minor"


def change_kind(old: Any, new: Any, path: str = "") -> list[tuple[str, str]]:
    """[(major|minor, what)] for a consumer of `old` who now gets `new`: anything a consumer of
    the old shape may rely on that is gone or different is major; something added is minor."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        if "list" in old:
            return change_kind(old["list"], new["list"], f"{path}[]")
        if "map" in old:
            return change_kind(old["map"], new["map"], f"{path}.*")
        if "object" in old:
            out: list[tuple[str, str]] = []
            of, nf = old["object"], new["object"]
            for k in of:
                if k not in nf:
                    out.append((MAJOR, f"{path}.{k} removed"))
                else:
                    out += change_kind(of[k], nf[k], f"{path}.{k}")
            for k in nf:
                if k not in of:
                    out.append((MINOR, f"{path}.{k} added"))
            if old["open"] and not new["open"]:
                out.append((MAJOR, f"{path} no longer allows other fields"))
            elif new["open"] and not old["open"]:
                out.append((MINOR, f"{path} now allows other fields"))
            for k in set(new["optional"]) - set(old["optional"]):
                if k in of:
                    out.append((MAJOR, f"{path}.{k} became optional"))
            for k in set(old["optional"]) - set(new["optional"]):
                if k in nf:
                    out.append((MINOR, f"{path}.{k} is now always present"))
            return out
    return [(MAJOR, f"{path or 'value'} retyped: {old} -> {new}")]
