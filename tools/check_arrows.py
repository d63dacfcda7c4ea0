#!/usr/bin/env python3
"""Fails the build when a source file includes a header of a module its library does not link.

The modules are the project's libraries; CMake writes, for each, the paths it owns and the
usersync libraries it links (usersync_module() in the top-level CMakeLists.txt). A file may include headers
of its own module and of every module its library reaches through its links, transitively.
A header no module owns is an error too, so a new folder cannot slip past the check.

Usage: check_arrows.py MODULES_FILE SOURCE_ROOT
MODULES_FILE lines: "name|path;path...|dep;dep..." (paths relative to SOURCE_ROOT; a path
ending in "/" owns a folder, any other a single file).
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
ROOTS = ("core/", "io/", "tools/")


def load(modules_file):
    modules = {}
    for line in pathlib.Path(modules_file).read_text().splitlines():
        if not line.strip():
            continue
        name, paths, deps = line.split("|")
        deps = [re.sub(r"^\$<LINK_ONLY:(.*)>$", r"\1", d) for d in deps.split(";") if d]
        modules[name] = ([p for p in paths.split(";") if p], deps)
    return modules


def owner(path, modules):
    best = None
    for name, (paths, _) in modules.items():
        for owned in paths:
            hit = path.startswith(owned) if owned.endswith("/") else path == owned
            if hit and (best is None or len(owned) > len(best[1])):
                best = (name, owned)
    return best[0] if best else None


def reach(name, modules, seen=None):
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    for dep in modules.get(name, ([], []))[1]:
        if dep in modules:
            reach(dep, modules, seen)
    return seen


def main():
    modules = load(sys.argv[1])
    root = pathlib.Path(sys.argv[2])
    errors = []
    for name, (paths, _) in modules.items():
        allowed = reach(name, modules)
        files = []
        for owned in paths:
            target = root / owned
            if owned.endswith("/"):
                files += [f for f in target.rglob("*") if f.suffix in (".h", ".cc", ".inc")]
            elif target.exists():
                files.append(target)
        for path in files:
            rel = path.relative_to(root).as_posix()
            if owner(rel, modules) != name:
                continue  # a deeper module owns it
            text = path.read_text(errors="replace")
            for match in INCLUDE.finditer(text):
                header = match.group(1)
                if not header.startswith(ROOTS):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                dep = owner(header, modules)
                if dep is None:
                    errors.append(f"{rel}:{line}: includes \"{header}\", which no library owns")
                elif dep not in allowed and not rel.endswith("_test.cc"):
                    errors.append(f"{rel}:{line}: includes \"{header}\" of {dep}, but {name} "
                                  f"does not link {dep} (allowed: {', '.join(sorted(allowed))})")
    if errors:
        print("usersync: include arrows broken (a module may include only what its library links):",
              file=sys.stderr)
        for error in errors:
            print("  " + error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
