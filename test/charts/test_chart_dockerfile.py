"""Static checks of the Dockerfile and .dockerignore (Docker itself cannot run in the test
environment, so these guard the properties the image must have)."""
import fnmatch
import re

from chart_helpers import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
EXECUTABLES = ("gardener-extension-networking-calico", "gardener-extension-admission-calico")


def _instructions():
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in DOCKERFILE.splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").rstrip() + " " if raw.rstrip().endswith("\\") else raw
        if not raw.rstrip().endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _stages():
    stages, name = {}, None
    for op, args in _instructions():
        if op == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            name = m.group(2) or m.group(1)
            stages[name] = [(op, args)]
        elif name:
            stages[name].append((op, args))
    return stages


def test_multi_stage_build_with_official_swift_image_and_static_stdlib():
    args = dict(a.split("=", 1) for op, a in _instructions() if op == "ARG" and "=" in a)
    stages = _stages()
    assert stages["builder"][0][1].startswith("${SWIFT_IMAGE}")
    assert args["SWIFT_IMAGE"].startswith("swift:"), "official Swift image"
    build = " ".join(a for op, a in stages["builder"] if op == "RUN")
    for exe in EXECUTABLES:
        assert re.search(rf"swift build -c release --static-swift-stdlib --product {exe}\b", build), exe


def test_runtime_images_are_minimal_non_root_and_carry_both_executables():
    args = dict(a.split("=", 1) for op, a in _instructions() if op == "ARG" and "=" in a)
    assert "distroless" in args["RUNTIME_IMAGE"] and args["RUNTIME_IMAGE"].endswith(":nonroot")
    stages = _stages()
    runtime = stages["runtime"]
    assert runtime[0][1].startswith("${RUNTIME_IMAGE}")
    users = [a for op, a in runtime if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), "numeric non-root USER"
    assert ("COPY", "--from=builder /out/ /") in runtime
    build = " ".join(a for op, a in stages["builder"] if op == "RUN")
    for exe in EXECUTABLES:
        assert f'"${{bin}}/{exe}"' in build, f"{exe} is copied to /out"
        stage = stages[exe]
        assert stage[0][1] == "runtime AS " + exe
        assert ("ENTRYPOINT", f'["/{exe}"]') in stage
    assert list(stages)[-1] == "gardener-extension-networking-calico", "default target is the controller"


def test_no_foundation_modules_that_need_shared_libraries_missing_from_the_runtime_image():
    """distroless/cc has no libcurl/libxml2, which FoundationNetworking/FoundationXML need."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "Sources").rglob("*.swift")
                 if re.search(r"^\s*import\s+(FoundationNetworking|FoundationXML)\b", p.read_text(), re.M)]
    assert not offenders, f"these files need libcurl/libxml2 at runtime; change the runtime image: {offenders}"


def test_dockerignore_keeps_exactly_the_build_inputs():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def included(path):
        keep = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern[1:] if negate else pattern
            pat = pat.rstrip("/")
            if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat + "/*") or \
                    (pat.startswith("**/") and any(fnmatch.fnmatch(part, pat[3:]) for part in path.split("/"))):
                keep = negate
        return keep

    for path in ("Package.swift", "Package.resolved", "Sources/KubeCore/JSON.swift", "VERSION", "Plugins/BuildStamp/BuildStamp.swift",
                 "Sources/CalicoManifests/Resources/README.md", "Tests/TestSupport/SharedFixtures.swift"):
        assert included(path), path
    for path in (".build/debug/x", ".build-charts/x", ".venv/bin/python", ".git/config", ".local/state",
                 "charts/gardener-extension-networking-calico/Chart.yaml", "docs/usage.md"):
        assert not included(path), path
    for op, args in _instructions():
        if op == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert included(source.replace("[d]", "d")), f"COPY {source} is excluded by .dockerignore"
