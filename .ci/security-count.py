#!/usr/bin/env python3
"""Counts the results of the Security category's tests in TRX files.

Usage: security-count.py NAMES_FILE TRX...; NAMES_FILE lists the category's test names, one per line (from
`dotnet test --list-tests --filter Category=Security`). A theory's cases count one each. Prints
'security: N passed, N failed, N skipped'.
"""
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
with open(sys.argv[1], encoding="utf-8") as names_file:
    names = {line.strip().split("(", 1)[0] for line in names_file if line.startswith("    ")}
counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[2:]:
    for result in ET.parse(path).getroot().iter(NS + "UnitTestResult"):
        if result.get("testName", "").split("(", 1)[0] not in names:
            continue
        outcome = result.get("outcome", "")
        key = "passed" if outcome == "Passed" else "failed" if outcome in ("Failed", "Error", "Timeout", "Aborted") else "skipped"
        counts[key] += 1
print(f"security: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
