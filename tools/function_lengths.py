#!/usr/bin/env python3
"""Lists the longest functions of the C++ sources given (or of core/, io/ and tools/).

A function is a definition that opens at column 0 (Google style: namespaces do not indent) and
ends at the next line holding only "}" at column 0; its length counts every line in between,
both ends included. Methods defined inside a class body are not seen: they are short by rule.
Usage: tools/function_lengths.py [--most N] [PATH...]
"""
import argparse
import pathlib
import re
import sys

NOT_FUNCTION = re.compile(r"^(namespace|struct|class|enum|union|extern|template\s*<[^>]*>\s*(struct|class))\b")


def functions(path):
    lines = path.read_text(errors="replace").splitlines()
    idx = 0
    while idx < len(lines):
        line = lines[idx]
        if line and not line[0].isspace() and line.rstrip().endswith("{") and not NOT_FUNCTION.match(line) \
                and "=" not in line.split("(")[0] and not line.startswith(("#", "//")):
            start = idx
            # The signature may start on an earlier line (a return type alone, wrapped params).
            while start > 0 and lines[start - 1] and not lines[start - 1][0].isspace() and \
                    not lines[start - 1].rstrip().endswith((";", "}", "{")) and \
                    not lines[start - 1].startswith(("//", "#", "}")):
                start -= 1
            end = idx + 1
            while end < len(lines) and lines[end].rstrip() != "}":
                end += 1
            name = re.sub(r"\s+", " ", " ".join(lines[start:idx + 1]))
            match = re.search(r"([\w:~<>]+)\s*\(", name)
            yield (end - start + 1, f"{path}:{start + 1}", match.group(1) if match else name[:60])
            idx = end + 1
            continue
        idx += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--most", type=int, default=10)
    parser.add_argument("paths", nargs="*", default=["core", "io", "tools"])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        root = pathlib.Path(root)
        files = [root] if root.is_file() else sorted(root.rglob("*.cc"))
        for path in files:
            if path.name.endswith("_test.cc"):
                continue
            found.extend(functions(path))
    found.sort(reverse=True)
    for length, where, name in found[:args.most]:
        print(f"{length:5d}  {name}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
