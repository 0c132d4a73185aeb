"""Derive the Kubernetes API usage of the Swift code, for the RBAC coverage tests.

The rule the code follows (docs/operations.md, "RBAC"):

* Every API resource is described by a `Resource` value declared as a `static let` with string
  literals, e.g. `public static let networks = Resource(group: "extensions.gardener.cloud",
  version: "v1alpha1", plural: "networks", kind: "Network", namespaced: true)` — in KubeClient
  (shared built-ins) or in the module that needs it.
* Code refers to them as `Resource.<name>` (or `.<name>` where the type is known, or through a
  typed view's `static let resource = Resource.<name>`).

What this scanner derives, for a set of "scanned" modules:

1. resources: every `Resource(...)` declared in a scanned module, plus every resource declared in
   KubeClient (or any module) that a scanned module references by name;
2. verbs, where the call shows them: `client.get/list/listAll/watch/create/update/patch/delete(
   Resource.x | .x | T.self | T.resource, ...)`, with `subresource: "status"` mapped to `x/status`,
   and `manager.informer(for: .x)` as list + watch. Calls through variables cannot be resolved; the
   tests' commented allow-list covers them;
3. the string literals of the scanned files, so the tests can check that every `resourceNames`
   entry of a chart is a name the code really uses.

Comments and string contents are stripped before matching references, so documentation never
counts as usage. A `Resource(` whose group/version/plural are not string literals is reported as
unparseable, so the tests fail loudly instead of silently missing a resource.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "Sources"


@dataclass(frozen=True)
class Res:
    group: str
    version: str
    plural: str

    def __str__(self) -> str:
        return f"{self.plural}.{self.group or 'core'}/{self.version}"


@dataclass
class Usage:
    resources: dict[Res, list[str]] = field(default_factory=dict)   # resource → where (file:line)
    verbs: dict[tuple[Res, str], set[str]] = field(default_factory=dict)  # (res, "plural[/sub]") → verbs
    unparseable: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    literals: set[str] = field(default_factory=set)  # string literals of the scanned files

    def add(self, res: Res, where: str) -> None:
        self.resources.setdefault(res, []).append(where)


def strip_comments(text: str) -> str:
    """Removes // and /* */ comments, keeping string literals and line numbers intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            chunk = text[i: n if j < 0 else j + 2]
            out.append("\n" * chunk.count("\n"))
            i = n if j < 0 else j + 2
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            chunk = text[i: n if j < 0 else j + 3]
            out.append(chunk)
            i = n if j < 0 else j + 3
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def blank_strings(text: str) -> str:
    """Replaces string literal contents by spaces (for reference matching)."""
    return re.sub(r'"(?:\\.|[^"\\\n])*"', lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', text)


def _balanced(text: str, open_index: int) -> str:
    depth, i = 0, open_index
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[open_index + 1:i]
        elif ch == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        i += 1
    return text[open_index + 1:]


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


_CTOR = re.compile(r"(?<![\w.])Resource\s*\(")
_DECL = re.compile(r"static\s+let\s+(\w+)\s*(?::\s*Resource\s*)?=\s*$")
_ARG = {k: re.compile(rf'\b{k}\s*:\s*"([^"]*)"') for k in ("group", "version", "plural")}
_ALIAS = re.compile(r"static\s+let\s+(\w+)\s*(?::\s*Resource\s*)?=\s*Resource\.(\w+)")
_VIEW = re.compile(r"\b(?:struct|class|enum|extension)\s+(\w+)")
_VIEW_RES = re.compile(r"static\s+let\s+resource\s*(?::\s*Resource\s*)?=\s*Resource\.(\w+)")
_CALL = re.compile(r"\.(get|getIfExists|list|listAll|watch|watchResuming|create|createIgnoringAnswer|update|patch|"
                   r"delete|deleteCollection)\s*\(\s*(?:Resource\.(\w+)|\.(\w+)\b|(\w+)\.self|(\w+)\.resource)")
_VERB = {"get": "get", "getIfExists": "get", "list": "list", "listAll": "list", "watch": "watch",
         "watchResuming": "watch", "create": "create", "createIgnoringAnswer": "create", "update": "update",
         "patch": "patch", "delete": "delete", "deleteCollection": "deletecollection"}
# An informer lists and then watches its resource: `manager.informer(for: .networks, ...)`.
_INFORMER = re.compile(r"\.informer\s*\(\s*for\s*:\s*(?:Resource\.(\w+)|\.(\w+)\b)")
_LITERAL = re.compile(r'"((?:\\.|[^"\\\n])*)"')


def swift_files(modules: list[str]) -> list[Path]:
    files = []
    for module in modules:
        base = SOURCES / module if "/" not in module else None
        if base is not None:
            files += sorted(base.rglob("*.swift")) if base.is_dir() else []
        else:
            files += sorted(SOURCES.glob(module))
    return files


def declarations(files: list[Path]) -> tuple[dict[str, Res], dict[str, str], dict[str, str], list[tuple[Res, str]], list[str]]:
    """(name → Res, alias name → name, view type → resource name, anonymous uses, unparseable)."""
    named: dict[str, Res] = {}
    aliases: dict[str, str] = {}
    views: dict[str, str] = {}
    anonymous: list[tuple[Res, str]] = []
    bad: list[str] = []
    for path in files:
        text = strip_comments(path.read_text())
        rel = path.relative_to(ROOT)
        for m in _CTOR.finditer(text):
            args = _balanced(text, m.end() - 1)
            where = f"{rel}:{_line(text, m.start())}"
            if "group:" not in args and "plural:" not in args:
                continue  # e.g. a different initializer; not a description
            values = {k: (p.search(args).group(1) if p.search(args) else None) for k, p in _ARG.items()}
            if None in values.values():
                bad.append(f"{where}: Resource({' '.join(args.split())[:100]}) — use string literals "
                           "for group, version and plural")
                continue
            res = Res(values["group"], values["version"], values["plural"])
            before = text[max(0, m.start() - 200):m.start()]
            decl = _DECL.search(before)
            if decl:
                named[decl.group(1)] = res
            anonymous.append((res, where))
        for m in _ALIAS.finditer(text):
            aliases[m.group(1)] = m.group(2)
        # typed views: `struct Network: KubeObjectView { static let resource = Resource.networks`
        positions = [(v.start(), v.group(1)) for v in _VIEW.finditer(text)]
        for r in _VIEW_RES.finditer(text):
            owner = [name for pos, name in positions if pos < r.start()]
            if owner:
                views[owner[-1]] = r.group(1)
    return named, aliases, views, anonymous, bad


def scan(modules: list[str], declaring_modules: list[str]) -> Usage:
    """API usage of `modules`, resolving references against declarations in `declaring_modules`."""
    usage = Usage()
    scanned = swift_files(modules)
    usage.files = scanned
    all_files = sorted(set(swift_files(declaring_modules)) | set(scanned))
    named, aliases, views, _, bad = declarations(all_files)
    _, _, _, own, own_bad = declarations(scanned)
    usage.unparseable = sorted(set(bad) | set(own_bad))

    def resolve(name: str | None) -> Res | None:
        seen = set()
        while name and name not in named and name in aliases and name not in seen:
            seen.add(name)
            name = aliases[name]
        return named.get(name) if name else None

    for res, where in own:  # declared (or constructed) inside a scanned module
        usage.add(res, where)
    ref = re.compile(r"(?:(?<![\w.])Resource\.(\w+))|(?:(?<=[(\[,:=\s])\.(\w+)\b)")
    for path in scanned:
        raw = strip_comments(path.read_text())
        text = blank_strings(raw)
        rel = path.relative_to(ROOT)
        for m in ref.finditer(text):
            res = resolve(m.group(1) or m.group(2))
            if res is None:
                continue
            if m.group(2) and m.group(2) not in named and m.group(2) not in aliases:
                continue
            usage.add(res, f"{rel}:{_line(text, m.start())}")
        usage.literals.update(_LITERAL.findall(raw))
        for m in _INFORMER.finditer(text):
            res = resolve(m.group(1) or m.group(2))
            if res is None:
                continue
            usage.verbs.setdefault((res, res.plural), set()).update({"list", "watch"})
            usage.add(res, f"{rel}:{_line(text, m.start())}")
        for m in _CALL.finditer(text):
            target = m.group(2) or m.group(3)
            res = resolve(target) if target else None
            if res is None and (m.group(4) or m.group(5)):
                res = resolve(views.get(m.group(4) or m.group(5)))
            if res is None:
                continue
            open_index = text.find("(", m.start())
            args = _balanced(raw, open_index)
            sub = re.search(r'subresource\s*:\s*"(\w+)"', args)
            key = (res, f"{res.plural}/{sub.group(1)}" if sub else res.plural)
            usage.verbs.setdefault(key, set()).add(_VERB[m.group(1)])
            usage.add(res, f"{rel}:{_line(text, m.start())}")
    return usage


def grants(rules: list[dict], scope: str = "") -> list[tuple[str, str, frozenset[str], frozenset[str]]]:
    """Flattens RBAC rules into (group, resource, verbs, resourceNames); with `scope` (e.g. "Role"),
    into (group, resource, verbs, resourceNames, scope)."""
    out = []
    for rule in rules:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                row = (group, resource, frozenset(rule.get("verbs", [])), frozenset(rule.get("resourceNames", [])))
                out.append(row + (scope,) if scope else row)
    return out


def granted_names(flat, group: str, resource: str, verb: str) -> frozenset[str] | None:
    """None when some rule allows `verb` on every `resource` object, else the union of the
    resourceNames of the rules allowing it (empty: not granted at all)."""
    names: set[str] = set()
    for g, r, verbs, rule_names, *_ in flat:
        if g not in (group, "*") or r not in (resource, "*") or not ({verb, "*"} & verbs):
            continue
        if not rule_names:
            return None
        names |= rule_names
    return frozenset(names)


def grant_text(group: str, resource: str, names: frozenset[str] | tuple[str, ...] = ()) -> str:
    text = f"{resource}.{group}" if group else f"{resource} (core)"
    if names:
        text += f" [resourceNames {', '.join(sorted(names))}]"
    return text
