#!/usr/bin/env python3
"""Counts the tests of the Security category in TRX files: prints 'security: N passed, N failed, N skipped'."""
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    security = {
        test.get("id")
        for test in root.iter(NS + "UnitTest")
        if any(item.get("TestCategory") == "Security" for item in test.iter(NS + "TestCategoryItem"))
    }
    for result in root.iter(NS + "UnitTestResult"):
        if result.get("testId") not in security:
            continue
        outcome = result.get("outcome", "")
        key = "passed" if outcome == "Passed" else "failed" if outcome in ("Failed", "Error", "Timeout", "Aborted") else "skipped"
        counts[key] += 1
print(f"security: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
