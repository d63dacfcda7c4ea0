#!/usr/bin/env python3
"""Checks the provenance of every figure in bench/RESULTS.md (issue 11, item 3).

The convention, stated at the top of RESULTS.md:

    Provenance: commit <sha>; command: `<command line>`

on a line of its own, one line per (commit, command) pair; an A/B gives one line for each
side. A section with no measurement says so with the line
`Provenance: none (this section reports no measurement)`. The checker requires, per `## `
section (its `### ` subsections included):

  * at least one Provenance line, and one before the section's first table;
  * every commit resolves to a commit that is an ancestor of HEAD (not a dangling object);
  * the command's program exists at that commit:
      - `bench/NAME.sh` (a script, possibly after VAR=value words): that file at the commit;
      - `BUILD/DIR/NAME` (a built program; BUILD is the first path component, e.g.
        build-release): `add_executable(NAME` in a CMakeLists.txt under DIR/ at the commit,
        and, for DIR = bench, the source bench/NAME.cc;
  * every long option of the command (`--name`, not Google Benchmark's own `--benchmark_*`)
    appears in the program's source at that commit (the script, or the bench source, or for
    tools the files under tools/ and io/), so a flag added later cannot hide behind an old
    commit.

Usage: bench/check_results.py [RESULTS.md]   (run from anywhere inside the repository)
First checks itself against known answers from the history (SELF_TEST). Prints one line per
Provenance line and exits 1 on any failure (a shallow clone fails too: the commits must be
present to be checked).
"""
import pathlib
import re
import shlex
import subprocess
import sys

PROVENANCE = re.compile(r"^Provenance: commit ([0-9a-f]{7,40}); command: `([^`]+)`\s*$")
NO_FIGURES = "Provenance: none (this section reports no measurement)"


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)


def exists_at(repo, commit, path):
    return git(repo, "cat-file", "-e", f"{commit}:{path}").returncode == 0


def grep_at(repo, commit, needle, pathspecs):
    r = git(repo, "grep", "-q", "-F", "-e", needle, commit, "--", *pathspecs)
    return r.returncode == 0


def program_of(command):
    """Returns (kind, path) of the command's program: ('script', 'bench/x.sh') or
    ('binary', 'build-release/bench/x'), skipping leading VAR=value words."""
    words = shlex.split(command)
    for word in words:
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            continue
        if word.endswith(".sh") or word.endswith(".py"):
            return "script", word, words
        return "binary", word, words
    return None, None, words


def check_line(repo, commit, command):
    """Returns a list of problems (empty when the provenance holds)."""
    problems = []
    r = git(repo, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if r.returncode != 0:
        return [f"commit {commit} does not exist"]
    full = r.stdout.strip()
    if git(repo, "merge-base", "--is-ancestor", full, "HEAD").returncode != 0:
        problems.append(f"commit {commit} is not an ancestor of HEAD")
    kind, program, words = program_of(command)
    if kind is None:
        return problems + ["no program in the command"]
    if kind == "script":
        if not exists_at(repo, commit, program):
            return problems + [f"{program} does not exist at {commit}"]
        sources = [program]
    else:
        parts = program.split("/")
        if len(parts) < 3 or not parts[0].startswith("build"):
            return problems + [f"{program}: expected BUILD/DIR/NAME or a script"]
        directory, name = "/".join(parts[1:-1]), parts[-1]
        if not grep_at(repo, commit, f"add_executable({name} ", [f"{directory}/*CMakeLists.txt"]):
            problems.append(f"no add_executable({name} under {directory}/ at {commit}")
        if directory == "bench":
            sources = [f"bench/{name}.cc"]
            if not exists_at(repo, commit, sources[0]):
                problems.append(f"{sources[0]} does not exist at {commit}")
        else:
            sources = ["tools", "io"]
    for word in words:
        option = word.split("=", 1)[0]
        if not option.startswith("--") or option.startswith("--benchmark_"):
            continue
        if not grep_at(repo, commit, option, sources):
            problems.append(f"option {option} not found in {', '.join(sources)} at {commit}")
    return problems


# Known answers from this repository's history, run before every check so a checker that has
# gone blind (always ok) fails: (commit, command, holds?).
SELF_TEST = [
    ("d6d13d0", "build-release/bench/pipeline_bench", True),
    ("81e4f32", "build-release/bench/pipeline_bench", False),   # the benchmark came later
    ("81e4f32", "bench/migration_bench.sh build-release 100000 3", False),
    ("4784223", "build-gen/bench/ldap_read_bench --read-coalesce-us 0", True),
    ("65787bd", "build-gen/bench/ldap_read_bench --read-coalesce-us 0", False),  # flag came later
    ("d6d13d0", "build-gen/tools/usersync-gen-ldif --users 10 --seed 1", True),
    ("d6d13d0", "build-gen/io/usersync-gen-ldif --users 10", False),  # built under tools/
]


def self_test(repo):
    failures = 0
    for commit, command, holds in SELF_TEST:
        if (not check_line(repo, commit, command)) != holds:
            print(f"FAIL self-test: {commit} `{command}` should {'hold' if holds else 'fail'}")
            failures += 1
    return failures


def main():
    results = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                           pathlib.Path(__file__).resolve().parent / "RESULTS.md")
    repo = results.resolve().parent
    top = git(repo, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        print(f"FAIL: {results} is not inside a git checkout; provenance cannot be checked")
        return 1
    if git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        print("FAIL: shallow clone; fetch the full history to check provenance")
        return 1
    failures = self_test(top.stdout.strip())
    print(f"self-test: {len(SELF_TEST)} known cases, {failures} wrong")
    checked = 0
    section = None
    sections = {}  # title -> [provenance lines, table seen before any provenance]
    for number, line in enumerate(results.read_text().splitlines(), 1):
        if line.startswith("## "):
            section = line[3:].strip()
            sections[section] = [0, False]
            continue
        if line.strip() == NO_FIGURES and section is not None:
            sections[section][0] += 1
            print(f"ok   line {number}: section '{section}' reports no measurement")
            continue
        if line.startswith("Provenance:"):
            m = PROVENANCE.match(line)
            if not m:
                print(f"FAIL line {number}: malformed (want 'Provenance: commit SHA; "
                      f"command: `...`'): {line}")
                failures += 1
                continue
            if section is None:
                print(f"FAIL line {number}: Provenance outside any ## section")
                failures += 1
                continue
            sections[section][0] += 1
            checked += 1
            commit, command = m.groups()
            problems = check_line(top.stdout.strip(), commit, command)
            status = "ok  " if not problems else "FAIL"
            print(f"{status} line {number}: {commit} `{command}`")
            for p in problems:
                print(f"       {p}")
            failures += bool(problems)
        elif line.startswith("|") and section is not None and sections[section][0] == 0:
            sections[section][1] = True
    for title, (count, early_table) in sections.items():
        if count == 0:
            print(f"FAIL section '{title}': no Provenance line")
            failures += 1
        elif early_table:
            print(f"FAIL section '{title}': a table comes before its first Provenance line")
            failures += 1
    print(f"{checked} provenance lines in {len(sections)} sections, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
