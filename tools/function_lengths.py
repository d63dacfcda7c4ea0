#!/usr/bin/env python3
"""Lists the longest functions of the C++ sources given (or of core/, io/ and tools/).

A function is a body opened at namespace scope whose head (the text since the previous
declaration) holds a parameter list and is not a class, struct, enum or union; its length counts
every line from the head's first line to the closing brace. Comments, string and character
literals are blanked first, so braces inside them do not count; `namespace X {` does not open a
scope. Methods defined inside a class body are not counted: they are short by rule.
Test files (*_test.cc) are left out.
Usage: tools/function_lengths.py [--most N] [PATH...]
"""
import argparse
import pathlib
import re
import sys

NOT_FUNCTION = re.compile(r"\b(struct|class|enum|union)\b[^()]*$")


def blank(text):
    """Replaces comments and literals with spaces, keeping line breaks."""
    out, idx, n = [], 0, len(text)
    while idx < n:
        c = text[idx]
        if text.startswith("//", idx):
            end = text.find("\n", idx)
            end = n if end < 0 else end
            out.append(" " * (end - idx))
            idx = end
        elif text.startswith("/*", idx):
            end = text.find("*/", idx + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[idx:end]))
            idx = end
        elif text.startswith('R"', idx) and (idx == 0 or not (text[idx - 1].isalnum() or text[idx - 1] == "_")):
            delim_end = text.find("(", idx)
            delim = text[idx + 2:delim_end]
            end = text.find(")" + delim + '"', delim_end)
            end = n if end < 0 else end + len(delim) + 2
            out.append(re.sub(r"[^\n]", " ", text[idx:end]))
            idx = end
        elif c == '"' or (c == "'" and not (idx > 0 and text[idx - 1].isalnum())):  # not 10'000
            end = idx + 1
            while end < n and text[end] != c and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            out.append(" " * (min(end + 1, n) - idx))
            idx = end + 1
        else:
            out.append(c)
            idx += 1
    return "".join(out)


def functions(path):
    text = blank(path.read_text(errors="replace"))
    lines = text.split("\n")
    line_of = []
    for number, line in enumerate(lines, 1):
        line_of.extend([number] * (len(line) + 1))
    depth = 0
    head_start = 0
    start = None
    name = ""
    for idx, c in enumerate(text):
        if depth == 0 and c in ";}":
            head_start = idx + 1
        elif c == "{":
            if depth == 0:
                head = text[head_start:idx]
                stripped = head.strip()
                if re.search(r"\bnamespace\b", head) or stripped.startswith("extern"):
                    head_start = idx + 1
                    continue  # a namespace or extern "C" block: its contents stay at scope 0
                if "(" in head and not NOT_FUNCTION.search(head.split("(")[0]) and "=" not in head.split("(")[0]:
                    start = head_start + (len(head) - len(head.lstrip()))
                    match = re.search(r"([\w:~<>]+)\s*\(", head)
                    name = match.group(1) if match else stripped[:60]
                else:
                    start = None
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if start is not None:
                    yield (line_of[idx] - line_of[start] + 1, f"{path}:{line_of[start]}", name)
                start = None
                head_start = idx + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--most", type=int, default=10)
    parser.add_argument("paths", nargs="*", default=["core", "io", "tools"])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        root = pathlib.Path(root)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.suffix in (".cc", ".h"))
        for path in files:
            if path.name.endswith("_test.cc"):
                continue
            found.extend(functions(path))
    found.sort(key=lambda f: (-f[0], f[1]))
    for length, where, name in found[:args.most]:
        print(f"{length:5d}  {name}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
