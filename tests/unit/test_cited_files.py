"""Every file a comment, a docstring or a documentation page cites is in the repository.

A citation is a token that looks like a relative path with a `/` and a file extension
(`services/cards/blocking.py`, `docs/pki.md`) or a bare Markdown name (`README.md`). It must
exist relative to the repository root, to `src/ekort` (how the code and docs name modules), or
to the citing file's directory (Markdown links), and lie inside the repository: facts the code
relies on live in `docs/`, not in notes kept elsewhere.

Python files are read for comments and docstrings only (a string in code is data, not a
citation), templates and TOML files for their comments, Markdown pages in full.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("src", "tests", "bench")
DOCS = ("README.md", "docs")
SKIPPED_DIRS = {"__pycache__", "ekort.egg-info"}

EXTENSIONS = "py|md|toml|txt|json|html|sh|cfg|ini|yml|yaml|sql|po|mo|pem|csv|js|css|svg|sqlite3"
CITATION = re.compile(
    rf"(?<![\w./*-])((?:[\w.*-]+/)+[\w.*-]+\.(?:{EXTENSIONS})|[\w-][\w.-]*\.md)(?![\w/-])"
)
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
# Paths under the data directory name what ekort writes at run time (`var/bench/latest.json`).
RUNTIME_DIR = "var/"

# Being rewritten: stale citations in files whose owners are changing them right now, as
# (citing file, cited path). Each entry is to go once its file is done; nothing else is let off.
BEING_REWRITTEN: set[tuple[str, str]] = set()

TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)
TOML_COMMENT = re.compile(r"#.*")


def _docstring_lines(tree: ast.Module) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        node.body[0].lineno
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    }


def _python_prose(text: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring."""
    docstrings = _docstring_lines(ast.parse(text))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT or (
            token.type == tokenize.STRING and token.start[0] in docstrings
        ):
            yield token.start[0], token.string


def _comments(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    for match in pattern.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group()


def _prose(path: Path) -> Iterator[tuple[int, str]]:
    if path.suffix not in (".py", ".md", ".html", ".toml"):
        return
    text = path.read_text(encoding="utf-8")
    if CITATION.search(text) is None:  # most files: no need to tokenize them
        return
    if path.suffix == ".py":
        yield from _python_prose(text)
    elif path.suffix == ".md":
        yield 1, text
    elif path.suffix == ".html":
        yield from _comments(text, TEMPLATE_COMMENT)
    else:
        yield from _comments(text, TOML_COMMENT)


def _files() -> Iterator[Path]:
    for name in CODE + DOCS:
        top = ROOT / name
        paths = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in paths:
            if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                yield path


def _exists(cited: str, citing: Path) -> bool:
    for base in (ROOT, ROOT / "src" / "ekort", citing.parent):
        found = base.glob(cited) if "*" in cited else [base / cited]
        if any(p.exists() and p.resolve().is_relative_to(ROOT) for p in found):
            return True
    return False


def citations() -> Iterator[tuple[str, int, str]]:
    """(citing file, line, cited path) of every citation in the repository."""
    for path in _files():
        for first_line, text in _prose(path):
            text = URL.sub(lambda url: " " * len(url.group()), text)
            for match in CITATION.finditer(text):
                line = first_line + text.count("\n", 0, match.start())
                yield path.relative_to(ROOT).as_posix(), line, match.group(1)


def test_every_cited_file_exists():
    stale = [
        f"{citing}:{line} cites {cited}, which is not in the repository"
        for citing, line, cited in citations()
        if not cited.startswith(RUNTIME_DIR)
        and (citing, cited) not in BEING_REWRITTEN
        and not _exists(cited, ROOT / citing)
    ]
    assert stale == []


def test_the_check_sees_what_it_should():
    """The pattern finds paths and Markdown names, and the check refuses what is missing or
    outside the repository."""
    found = CITATION.findall(
        "see docs/pki.md, tests/unit/test_*.py and rules.md; not ekort.pki.keys or a/b"
    )
    assert found == ["docs/pki.md", "tests/unit/test_*.py", "rules.md"]
    here = Path(__file__)
    assert _exists("docs/pki.md", here)
    assert _exists("pki/keys.py", here)  # from src/ekort
    assert _exists("tests/unit/test_*.py", here)
    assert not _exists("NOTES.md", here)
    assert not _exists("../shared/domain/NOTES.md", here)  # outside, even if it exists there
    assert not _exists("tests/domain/test_audit_chain.py", here)
