#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Keeps the code in the docs true to files the test suite builds and runs.

Rules for docs/*.md and README.md (docs/index.md, "Examples in these pages"):
  * A fenced block right after `<!-- example: PATH -->` must be the file PATH (relative to the
    source tree) verbatim, without its leading shebang and SPDX licence lines.
  * Every fenced block in cpp, c, python or sh must carry such a marker, or
    `<!-- excerpt: why -->` when it is a fragment that is not meant to run as it stands.
  * With --tested, every file quoted by a marker must be among the files the ctest suite runs.
  * A fenced block right after `<!-- output: PATH -->` is the end of what PATH prints: the
    `run` command checks it.

  check_doc_examples.py check SOURCE_DIR [--tested FILE...]
  check_doc_examples.py run SOURCE_DIR EXAMPLE -- COMMAND...   (exit 0, output ends with the docs' block)
  check_doc_examples.py sync SOURCE_DIR    (after editing an example: rewrites the quoted blocks)
"""

import re
import subprocess
import sys
from pathlib import Path

CHECKED_LANGUAGES = {"cpp", "c", "python", "sh"}
MARKER = re.compile(r"^<!--\s*(example|excerpt|output):\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")


def doc_files(source: Path) -> list[Path]:
    return sorted((source / "docs").glob("*.md")) + [source / "README.md"]


def blocks(path: Path):
    """Yields (line number, language, marker kind, marker text, block lines) per fenced block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"{path}:{start + 1}: code block never closed")
        i += 1
        yield start + 1, fence.group(1), marker.group(1) if marker else None, marker.group(2) if marker else "", body


def example_text(file: Path) -> list[str]:
    """The file as the docs show it: without the leading shebang and SPDX lines."""
    lines = file.read_text(encoding="utf-8").splitlines()
    while lines and (lines[0].startswith("#!") or "SPDX-License-Identifier" in lines[0]):
        lines = lines[1:]
    return lines


def check(source: Path, tested: list[str] | None) -> int:
    problems = []
    quoted = set()
    for doc in doc_files(source):
        rel = doc.relative_to(source)
        for line, language, kind, text, body in blocks(doc):
            where = f"{rel}:{line}"
            if kind == "example":
                file = source / text
                if not file.is_file():
                    problems.append(f"{where}: quotes {text}, which does not exist")
                    continue
                quoted.add(text)
                expected = example_text(file)
                if body != expected:
                    for n, (a, b) in enumerate(zip(body, expected)):
                        if a != b:
                            problems.append(f"{where}: differs from {text} at its line {n + 1}:\n"
                                            f"    docs: {a!r}\n    file: {b!r}")
                            break
                    else:
                        problems.append(f"{where}: {len(body)} lines, {text} has {len(expected)}")
            elif kind == "excerpt":
                if not text:
                    problems.append(f"{where}: `<!-- excerpt: -->` needs a reason")
            elif language in CHECKED_LANGUAGES and kind != "output":
                problems.append(
                    f"{where}: a ```{language} block must be a file under examples/ that ctest runs, "
                    f"quoted after `<!-- example: examples/FILE -->`, or be marked "
                    f"`<!-- excerpt: why it is not run -->` (rules: docs/index.md)")
    if tested is not None:
        for text in sorted(quoted - set(tested)):
            problems.append(f"{text} is quoted in the docs but no ctest test runs it")
    for p in problems:
        print(p)
    print(f"{len(quoted)} example files quoted in the docs; {len(problems)} problems")
    return 1 if problems else 0


def output_block(source: Path, example: str) -> list[str] | None:
    for doc in doc_files(source):
        for _, _, kind, text, body in blocks(doc):
            if kind == "output" and text == example:
                return body
    return None


def run(source: Path, example: str, command: list[str]) -> int:
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        print(f"{example}: exit code {done.returncode}")
        return 1
    expected = output_block(source, example)
    if expected is not None:
        got = [line.rstrip() for line in done.stdout.rstrip("\n").splitlines()]
        want = [line.rstrip() for line in expected]
        if got[-len(want):] != want:
            print(f"{example}: the output does not end with the docs' `<!-- output: {example} -->` block:")
            print("\n".join(want))
            return 1
    return 0


def sync(source: Path) -> int:
    """Rewrites every quoted block from its file (for maintainers, after editing an example)."""
    for doc in doc_files(source):
        lines = doc.read_text(encoding="utf-8").split("\n")
        out, i, changed = [], 0, False
        while i < len(lines):
            marker = MARKER.match(lines[i])
            out.append(lines[i])
            i += 1
            if marker and marker.group(1) == "example" and i < len(lines) and FENCE.match(lines[i]):
                out.append(lines[i])
                j = i + 1
                while j < len(lines) and not lines[j].startswith("```"):
                    j += 1
                new = example_text(source / marker.group(2))
                changed |= lines[i + 1:j] != new
                out += new
                i = j
        if changed:
            doc.write_text("\n".join(out), encoding="utf-8")
            print(f"updated {doc.relative_to(source)}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "check":
        source = Path(argv[1])
        tested = None
        if len(argv) > 2:
            if argv[2] != "--tested":
                raise SystemExit(__doc__)
            tested = argv[3:]
        return check(source, tested)
    if len(argv) == 2 and argv[0] == "sync":
        return sync(Path(argv[1]))
    if len(argv) >= 5 and argv[0] == "run" and argv[3] == "--":
        return run(Path(argv[1]), argv[2], argv[4:])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
