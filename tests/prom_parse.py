#!/usr/bin/env python3
"""Parses a Prometheus text-format file with the Prometheus project's own parser
(python3-prometheus-client) and prints every sample as one canonical line:
    name{label="value",...} VALUE      (labels sorted, VALUE as Python's repr of the float)
Exit 1 (and why on stderr) when the file does not parse, a family has no HELP or TYPE, or a
name lacks the usersync_ prefix.

Usage: prom_parse.py FILE
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    declared = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    helped = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as error:
        print(f"does not parse: {error}", file=sys.stderr)
        return 1
    for family in families:
        if family.name not in declared or family.name not in helped or not family.documentation:
            print(f"{family.name}: no HELP or TYPE line", file=sys.stderr)
            return 1
        if not family.name.startswith("usersync_"):
            print(f"{family.name}: not prefixed usersync_", file=sys.stderr)
            return 1
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            print(f"{sample.name}{{{labels}}} {sample.value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
