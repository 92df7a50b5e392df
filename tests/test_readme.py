"""The README and every page under docs/: commands, examples and links work as written."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.architectures import build_plan
from infra.config import validate

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    p.relative_to(ROOT).as_posix(): p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
}
README = PAGES["README.md"]
# Quick and offline: run exactly as written. The rest (demo, emulator,
# benchmarks, the suite itself) are run by their own tests.
RUN_AS_WRITTEN = ("./scripts/plan", "./scripts/compare", "./scripts/diagram")
# Pages another branch of the same change writes: a link to one is checked once it is there.
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def blocks(language: str, text: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def commands_of(text: str) -> list[str]:
    return [
        line.split("#")[0].strip()
        for block in blocks("sh", text)
        for line in block.splitlines()
        if line.strip().startswith("./scripts/")
    ]


COMMANDS = [(page, command) for page, text in PAGES.items() for command in commands_of(text)]
QUICK = list(dict.fromkeys(c for _, c in COMMANDS if c.startswith(RUN_AS_WRITTEN)))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} +(.+?) *$", FENCED.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def relative_links(page: str) -> list[str]:
    return [t for t in LINK.findall(FENCED.sub("", PAGES[page])) if not re.match(r"[a-z]+:", t)]


def destination(page: str, target: str) -> tuple[str, str]:
    """Where a link of `page` leads: (path from the root, anchor or '')."""
    path, _, anchor = target.partition("#")
    if not path:
        return page, anchor
    parts: list[str] = []
    for part in (Path(page).parent / path).as_posix().split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts), anchor


LINKS = [(page, target) for page in PAGES for target in dict.fromkeys(relative_links(page))]


def test_set_up_has_exactly_the_two_commands():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = blocks("sh", setup)
    assert len(block) == 1
    assert [line.split("#")[0].strip() for line in block[0].strip().splitlines()] == [
        "./scripts/demo dev",
        "./scripts/test",
    ]


@pytest.mark.parametrize("page,command", COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_every_script_named_exists(page, command):
    script = ROOT / shlex.split(command)[0]
    assert script.is_file() and script.stat().st_mode & 0o111, f"{page}: {script} is not an executable script"


@pytest.mark.parametrize("command", QUICK)
def test_quick_commands_run_as_written(command):
    if "--against HEAD" in command:
        stack = shlex.split(command)[1]
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", f"stacks/Pulumi.{stack}.yaml"], cwd=ROOT)
        if dirty.returncode:
            pytest.skip("the stack file has uncommitted changes")
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_stack_file_examples_validate_and_plan():
    examples = {page: [yaml.safe_load(b) for b in blocks("yaml", text)] for page, text in PAGES.items()}
    stacks = [
        (page, e["config"]) for page, found in examples.items() for e in found if isinstance(e, dict) and "config" in e
    ]
    assert stacks
    for page, config in stacks:
        plan = build_plan(validate(config, "readme"))
        assert set(plan.routing) == set(config["multicloud-kafka:regions"]), page


@pytest.mark.parametrize("page,target", LINKS, ids=[f"{p} -> {t}" for p, t in LINKS])
def test_every_relative_link_leads_somewhere(page, target):
    dest, anchor = destination(page, target)
    if not (ROOT / dest).exists():
        pytest.fail(f"{page} links to {target}, but {dest} does not exist")
    if anchor:
        assert dest.endswith(".md"), f"{page}: an anchor into {dest}, which is not a markdown page"
        text = PAGES.get(dest) or (ROOT / dest).read_text()
        assert anchor in anchors(text), f"{page} links to {target}, but {dest} has no heading with that anchor"


def test_every_page_under_docs_is_reachable_from_the_readme():
    reached, todo = {"README.md"}, ["README.md"]
    while todo:
        page = todo.pop()
        for target in relative_links(page):
            dest, _ = destination(page, target)
            if dest in PAGES and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    assert set(PAGES) - reached == set()
