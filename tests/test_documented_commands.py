"""Every command the docs show still works.

Each `snakemake ... <target>` shown in README.md, config/README.md, results/README.md or docs/*.md (in a shell code
block, or inline in a paragraph) is dry-run as written, against the config files it names (else
config/config.yaml), in a scratch copy of the checkout; each `python -m <module>` must answer `--help`. A target no
rule produces, or a command line Snakemake reads differently than written (a target swallowed by an option that
takes several values), fails its own test, whose id is the file and line of the command. Skips: commands deploying
with conda where conda is absent (SKIP_WITHOUT), and those reading ../shared/data without it (a failure in CI).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA, missing, snakemake_cmd

pytestmark = pytest.mark.workflow

DOCS = [REPO / "README.md", REPO / "config" / "README.md", REPO / "results" / "README.md",
        *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
FENCES = SHELL_LANGUAGES | {""}  # a plain block may hold commands too, or a file tree
SEPARATORS = {"&&", "||", ";", "|"}
REDIRECTIONS = {">", ">>", "<", "2>", "&>"}
MENTIONS_A_PROGRAM = re.compile(r"(^|[\s/])(snakemake|python[0-9.]*)\s")
DRY_RUN = {"-n", "--dry-run", "--dryrun"}
# Left out of the scratch checkout: what a run writes (so every dry run plans from nothing, whatever the developer's
# results/ holds) and git's own entry.
OUTPUTS = {"results", "resources", "logs", "benchmarks", ".snakemake", ".git"}
# The only commands that may skip (after Snakemake's parser has read them, so a misplaced target still fails):
# conda deployment runs `conda info` even in a dry run, and conda is no part of this project's install (a venv).
SKIP_WITHOUT = {"conda": "deploys software with conda (--sdm conda), and conda is not on PATH"}
# Files the docs ask the reader to bring ("Your own data"): a stand-in, since a dry run only needs them to exist.
READERS_FILES = {"data/mine.csv": "age,sex,outcome\n61,F,1\n45,M,0\n"}


@dataclass(frozen=True)
class Command:
    where: str               # file:line of the command, relative to the repo
    argv: tuple[str, ...]    # from the program on: ("snakemake", ...) or ("python", "-m", module, ...)

    def __str__(self):
        return f"{self.where}: {shlex.join(self.argv)}"


# --- finding the commands -----------------------------------------------------------------------------------------

def fenced_lines(text: str):
    """(line number, logical line, language) of every shell or plain code block, a `\\` continuation joined to
    its next line."""
    fence, start, pending = None, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip().lower()
            continue
        if fence not in FENCES:
            continue
        start = start if pending else number
        if stripped.endswith("\\") and not stripped.startswith("#"):
            pending += stripped[:-1] + " "
            continue
        yield start, pending + stripped, fence
        pending = ""


def inline_spans(text: str):
    """(line number, code, "inline") of every inline code span outside code blocks; a span may break over a
    line."""
    outside = re.sub(r"^ *```.*?^ *```", lambda m: "\n" * m[0].count("\n"), text, flags=re.S | re.M)
    for match in re.finditer(r"`([^`]+)`", outside):
        yield outside.count("\n", 0, match.start()) + 1, " ".join(match[1].split()), "inline"


def split_commands(line: str) -> list[list[str]]:
    """The commands of one shell line: `#` comments dropped, split at `&&`, `||`, `;` and `|` (written apart, as
    the docs do), redirections and their files dropped."""
    commands, words, redirected = [], [], False
    for token in shlex.split(line, comments=True):
        if redirected:
            redirected = False
        elif token in SEPARATORS:
            commands.append(words)
            words = []
        elif token in REDIRECTIONS:
            redirected = True
        else:
            words.append(token)
    return [c for c in commands + [words] if c]


def program(words: list[str], first_only: bool) -> tuple[str, ...] | None:
    """The words from `snakemake` or `python -m` on, or None; `first_only`: only when the command starts with it
    (after `VAR=value` assignments), as an inline span must to be a command and not a name in a sentence."""
    for i, word in enumerate(words):
        name = os.path.basename(word)
        if name == "snakemake":
            return ("snakemake", *words[i + 1:])
        if re.fullmatch(r"python[0-9.]*", name) and words[i + 1:i + 2] == ["-m"] and len(words) > i + 2:
            return ("python", *words[i + 1:])
        if first_only and not re.fullmatch(r"\w+=\S*", word):
            return None
    return None


def snakemake_args(argv: tuple[str, ...]):
    """Snakemake's own reading of a command line (its argument parser): targets and options as it sees them."""
    from snakemake.cli import get_argument_parser

    return get_argument_parser().parse_args(list(argv[1:]))


def is_command(argv: tuple[str, ...], where: str) -> bool:
    """A shell block holds commands. Elsewhere (an inline span, a plain block of a file tree) a line is a command
    when it asks for a target (`snakemake --cores all results/release`) or runs a module; `snakemake -n` or
    `snakemake --unlock` in a sentence names an option."""
    if where in SHELL_LANGUAGES or argv[0] == "python":
        return True
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage message
            return bool(snakemake_args(argv).targets)
    except SystemExit:  # an option named without its value: prose
        return False


def doc_commands(path: Path, root: Path = REPO) -> list[Command]:
    text, name = path.read_text(), path.relative_to(root).as_posix()
    found = []
    for number, line, where in [*fenced_lines(text), *inline_spans(text)]:
        if not MENTIONS_A_PROGRAM.search(line):  # prose in backticks need not be shell syntax
            continue
        for words in split_commands(line):
            argv = program(words, first_only=where not in SHELL_LANGUAGES)
            if argv and is_command(argv, where):
                found.append((number, Command(f"{name}:{number}", argv)))
    return [command for _, command in sorted(found, key=lambda pair: pair[0])]


COMMANDS = [c for path in DOCS if path.is_file() for c in doc_commands(path)]
SNAKEMAKE = [c for c in COMMANDS if c.argv[0] == "snakemake"]
MODULES = [c for c in COMMANDS if c.argv[0] == "python"]


# --- running them -------------------------------------------------------------------------------------------------

def mirror(source: Path, target: Path) -> None:
    """``target`` as a folder of links to ``source``'s entries (if any), its output folders left out."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir() if source.is_dir() else ():
        if entry.name not in OUTPUTS:
            (target / entry.name).symlink_to(entry)


def scratch_checkout(tmp_path: Path, args) -> Path:
    """A checkout to run in: links to the repo's files (config, workflow, profiles, fixtures, ...), ../shared/data
    linked to MEDSYN_SHARED_DATA (configs read the paper's tables from there), the reader's stand-in files; a
    `--directory` the command names gets links of its own, so nothing is written into the repo."""
    root = tmp_path / "clone"
    mirror(REPO, root)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(SHARED_DATA)
    if args.directory:
        workdir = root / args.directory
        if workdir.is_symlink():
            workdir.unlink()
        mirror(REPO / args.directory, workdir)
    for name, content in READERS_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def missing_tool(args) -> str | None:
    """The reason a command cannot dry-run here: a tool of SKIP_WITHOUT it needs and this machine lacks."""
    uses_conda = args.use_conda or "CONDA" in {m.name for m in args.software_deployment_method or ()}
    return SKIP_WITHOUT["conda"] if uses_conda and shutil.which("conda") is None else None


def needs_shared_data(root: Path, args) -> bool:
    return any("../shared/" in (root / f).read_text() for f in args.configfile or ())


def snakemake_error(output: str) -> str:
    """The lines of Snakemake's output that say what went wrong (a missing rule, a missing input, a config key)."""
    keys = ("Error", "Exception", "No rule to produce", "Missing input", "config key", "error:")
    lines = [line for line in output.splitlines() if any(k in line for k in keys)]
    return "\n".join(lines[:20]) or output[-3000:]


def read_or_fail(command: Command):
    """Snakemake's reading of a documented command; a line it refuses fails with its own error message."""
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            return snakemake_args(command.argv)
    except SystemExit:
        pass  # failed below, outside the handler: argparse's traceback says nothing the message does not
    pytest.fail(f"{command}\nSnakemake refuses this command line: {usage.getvalue().strip().splitlines()[-1]}")


@pytest.mark.parametrize("command", SNAKEMAKE, ids=[c.where for c in SNAKEMAKE])
def test_documented_snakemake_command_dry_runs(command, tmp_path):
    args = read_or_fail(command)
    assert args.targets, (
        f"{command}\nsnakemake reads no target here (it would build the default target instead): a path after an "
        "option that takes several values (-R/--forcerun, --configfile, --config, --set-threads) is read as that "
        "option's value; put the targets before such options")
    if reason := missing_tool(args):
        pytest.skip(f"{command.where} {reason}")
    root = scratch_checkout(tmp_path, args)
    if needs_shared_data(root, args) and not (SHARED_DATA / "diabetes.csv").is_file():
        missing(f"{command.where} reads the paper's tables from ../shared/data; none in {SHARED_DATA} "
                "(set MEDSYN_SHARED_DATA)")
    dry = list(command.argv[1:]) + ([] if DRY_RUN & set(command.argv) else ["-n"])
    proc = subprocess.run(snakemake_cmd(root, *dry), cwd=root, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (
        f"the documented command fails its dry run:\n{command}\n{snakemake_error(proc.stdout + proc.stderr)}")
    assert "Job stats:" in proc.stdout or "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-2000:]


@pytest.mark.parametrize("command", MODULES, ids=[c.where for c in MODULES])
def test_documented_module_answers_help(command, tmp_path):
    module = command.argv[2]
    proc = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (
        f"{command}\n`python -m {module} --help` exits {proc.returncode}:\n{proc.stderr[-3000:]}")


# --- the extraction itself ----------------------------------------------------------------------------------------

def test_extraction_reads_continuations_comments_and_chains(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("Run `snakemake --cores all results/x.tsv` or `snakemake -n` (an option).\n\n"
                   "```bash\n"
                   "# a comment line\n"
                   "bash scripts/install.sh && .venv/bin/python -m pytest -q   # tests\n"
                   ".venv/bin/snakemake --cores all \\\n"
                   "    results/report.html --configfile a.yaml  # the report\n"
                   "```\n\n"
                   "```yaml\nsnakemake: not a command\n```\n")
    found = [(c.where.split(":")[1], c.argv) for c in doc_commands(doc, root=tmp_path)]
    assert found == [
        ("1", ("snakemake", "--cores", "all", "results/x.tsv")),
        ("5", ("python", "-m", "pytest", "-q")),
        ("6", ("snakemake", "--cores", "all", "results/report.html", "--configfile", "a.yaml")),
    ]


def test_the_docs_show_the_quick_start_commands():
    """The scan finds what a reader runs first: the quick start's run and its tests."""
    readme = [c.argv for c in COMMANDS if c.where.startswith("README.md:")]
    assert ("snakemake", "--cores", "all", "results/report.html") in readme
    assert ("python", "-m", "pytest", "-q") in readme
