#!/usr/bin/env python3
"""The installed reference follows the command line: every subcommand of `usersync --help` and
every flag of `usersync COMMAND --help` appears in the man page (usersync.1) and in the bash
completion (usersync.bash-completion), and neither names a subcommand the program lacks.

Usage: check_reference.py USERSYNC_BINARY MAN_PAGE COMPLETION   (exit 0 when they agree)
"""
import re
import subprocess
import sys


def help_text(binary, *args):
    return subprocess.run([binary, *args, "--help"], check=True, capture_output=True,
                          text=True).stdout


def subcommands(binary):
    text = help_text(binary)
    section = text.split("Subcommands:", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*)\s", section, re.M)]


def flags(binary, command):
    """The long flags (--x) and short ones (-c) of COMMAND, without -h/--help."""
    found = []
    for line in help_text(binary, command).splitlines():
        m = re.match(r"^  (-[^ ]+)", line)
        if not m:
            continue
        for name in m.group(1).split(","):
            if name not in ("-h", "--help"):
                found.append(name)
    return found


def completion_words(completion, command):
    """The words the completion offers after COMMAND: its `COMMAND) opts="..."` case."""
    m = re.search(r"^\s*" + re.escape(command) + r"\)\s*\n\s*opts=\"([^\"]*)\"", completion, re.M)
    return m.group(1).split() if m else None


def main():
    binary, man_path, completion_path = sys.argv[1:4]
    man = open(man_path, encoding="utf-8").read().replace("\\-", "-")
    completion = open(completion_path, encoding="utf-8").read()
    problems = []
    commands = subcommands(binary)
    if len(commands) < 5:
        problems.append(f"could not read the subcommands of `{binary} --help`")
    m = re.search(r'^\s*local commands="([^"]*)"', completion, re.M)
    listed = m.group(1).split() if m else []
    for command in commands:
        if not re.search(r"^\.SS " + re.escape(command) + r"\b", man, re.M):
            problems.append(f"usersync.1: no `.SS {command}` section")
        if command not in listed:
            problems.append(f"completion: `{command}` missing from `local commands=`")
        words = completion_words(completion, command)
        if words is None:
            problems.append(f"completion: no `{command})` case with opts=")
            words = []
        section = re.search(r"^\.SS " + re.escape(command) + r"\b(.*?)(?=^\.S[SH] )", man,
                            re.M | re.S)
        for flag in flags(binary, command):
            if flag not in words:
                problems.append(f"completion: `{command}` does not offer {flag}")
            # -c/--config is every command's, described once (DESCRIPTION); the rest per command.
            where = man if flag in ("-c", "--config") else (section.group(1) if section else "")
            if flag not in where:
                problems.append(f"usersync.1: `{command}` section does not name {flag}")
    for extra in sorted(set(listed) - set(commands)):
        problems.append(f"completion: offers `{extra}`, which `usersync --help` does not list")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(commands)} subcommands checked; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
