"""The README tells the truth: its commands and examples are run here, as written.

The Python examples (gradio_client and the OpenAI client) run against a served studio on the
real embedded SmolLM2; the curl line, the backup one-liner, the headless entry points and
`scripts/run.sh` itself run as subprocesses. The config reference must match the schemas.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from studio.settings import PROJECT_ROOT
from tests.helpers import free_port, serve

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
README_URL = "http://127.0.0.1:7860"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _block_with(lang: str, marker: str) -> str:
    found = [b for b in _blocks(lang) if marker in b]
    assert len(found) == 1, f"expected one ```{lang} block with {marker!r} in README.md"
    return found[0]


def test_config_reference_matches_the_schemas():
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        from config_reference import END, START, reference
    finally:
        sys.path.pop(0)
    block = README[README.index(START) : README.index(END) + len(END)]
    assert block == reference(), "run: python scripts/config_reference.py --write"


def test_the_cpu_torch_command_is_the_one_setup_uses():
    command = _block_with("bash", "download.pytorch.org")
    setup = (PROJECT_ROOT / "scripts" / "setup.sh").read_text()
    spec = re.search(r"TORCH_SPEC=\$\{TORCH_SPEC:-([^}]+)\}", setup).group(1)
    index = re.search(r"--index-url (https://download\.pytorch\.org/\S+)\"", setup).group(1)
    assert command.split() == ["pip", "install", spec, "--index-url", index]


def test_templates_table_lists_every_template_with_its_facts():
    from studio.templates import TEMPLATES

    section = README[README.index("## Templates") : README.index("## Settings: the form")]
    rows = {line.split(" | ")[0].strip("| "): line for line in section.splitlines()}
    for t in TEMPLATES.values():
        assert t.title in rows, f"README's Templates table lacks {t.title}"
        if t.memory:
            row = rows[t.title]
            assert f"{t.memory.lora_gb:g} / {t.memory.qlora_gb:g} GB" in row, row
            assert ", ".join(t.fits) in row and t.license in row
            assert ("gated" in row) == t.gated, row


def test_two_commands_and_ci_agree():
    commands = _block_with("bash", "scripts/run.sh")
    assert "bash scripts/run.sh" in commands and "bash scripts/test.sh" in commands
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "exec bash scripts/test.sh" in ci


@pytest.fixture(scope="module")
def served_studio(tmp_path_factory, models_cache, packaged_model_dir):
    import app
    from studio.settings import Settings

    home = tmp_path_factory.mktemp("readme-home")
    settings = Settings.from_env(home=home, models_root=models_cache, port=0)
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        yield url, home


def _run_python(code: str, url: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code.replace(README_URL, url)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _printed_comment(block: str, call: str) -> str:
    """What the README says a print call shows: the comment after it, on its line or the
    next (a long one)."""
    lines = block.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith(call))
    line = lines[at] if "#" in lines[at] else lines[at + 1]
    return line.split("#", 1)[1].strip()


@pytest.mark.slow
def test_gradio_client_example_answers(served_studio):
    url, _ = served_studio
    block = _block_with("python", "gradio_client")
    printed = _run_python(block, url)
    answer, stats = printed.splitlines()[-2:]  # after gradio_client's "Loaded as API" line
    # The README shows what the call prints: the answer word for word, the stats but speeds.
    assert answer.strip() == _printed_comment(block, "print(answer)")
    shown = _printed_comment(block, "print(stats)")
    assert re.fullmatch(re.escape(shown).replace("…", r"[\d.]+"), stats.strip()), stats


@pytest.mark.slow
def test_openai_example_answers_and_streams(served_studio):
    url, _ = served_studio
    block = _block_with("python", "from openai import OpenAI")
    printed = _run_python(block, url)
    models, reply, *streamed = printed.splitlines()
    assert "base:smollm2-135m-lora" in models
    assert reply.strip() == _printed_comment(block, "print(reply.choices[0].message.content)")
    assert "Paris" in "\n".join(streamed)


@pytest.mark.slow
def test_curl_example_gets_a_chat_completion(served_studio):
    url, _ = served_studio
    line = _block_with("bash", "curl").replace("\\\n", " ").replace(README_URL, url)
    out = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '"role":"assistant"' in out.stdout.replace(" ", "")


def test_backup_one_liner_copies_the_store(tmp_path, store, settings):
    store.create_app("Backed up")
    block = _block_with("bash", "backup(")
    code = shlex.split(block.strip())[2]  # python -c "<code>"
    code = code.replace("studio_home/studio.db", str(settings.db_path))
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
    names = sqlite3.connect(tmp_path / "backup.db").execute("SELECT name FROM apps").fetchall()
    assert names == [("Backed up",)]


def test_headless_entry_points_answer(tmp_path):
    block = _block_with("bash", "python -m studio.train RUN_DIR")
    modules = sorted(set(re.findall(r"python -m (studio\.\w+)", block)))
    assert modules == ["studio.evaluate", "studio.train"]
    for module in modules:
        helped = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert helped.returncode == 0 and "RUN_DIR" in helped.stdout.upper(), helped.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "studio.train", str(tmp_path / "nope")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_the_use_cases_answer_from_a_terminal():
    block = _block_with("bash", "python -m studio.actions demo")
    commands = re.findall(r"python -m studio\.actions (\w+)", block)
    helped = subprocess.run(
        [sys.executable, "-m", "studio.actions", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert helped.returncode == 0, helped.stderr
    listed = re.search(r"\{([\w,]+)\}", helped.stdout).group(1).split(",")
    assert sorted(commands) == sorted(listed)


@pytest.mark.slow
def test_run_command_starts_the_studio(tmp_path, models_cache, packaged_model_dir):
    """`bash scripts/run.sh` (set-up already done by the test command) serves the page."""
    port = free_port()
    env = dict(
        os.environ,
        STUDIO_HOME=str(tmp_path / "home"),
        STUDIO_PORT=str(port),
        STUDIO_MODELS_DIR=str(models_cache),
        GRADIO_ANALYTICS_ENABLED="False",
    )
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                if page.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError(
                "run.sh did not serve the page:\n" + (tmp_path / "run.log").read_text()
            )
        assert "TextGen Studio" in page.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert "\r" not in (tmp_path / "run.log").read_text()  # no progress bars in a log


def test_every_linked_file_exists():
    links = re.findall(r"\]\(((?!https?://)[^)#\s]+)\)", README)
    assert any(link.startswith("assets/screenshots/") for link in links)
    missing = [link for link in links if not (PROJECT_ROOT / link).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_users_file_commands_add_and_list_a_user(tmp_path):
    block = _block_with("bash", "python -m studio.users add")
    users = tmp_path / "users.txt"
    env = dict(os.environ, STUDIO_USERS=str(users))
    lines = [ln.split("#")[0].strip() for ln in block.splitlines()]
    add = next(ln for ln in lines if ln.startswith("python -m studio.users add"))
    out = subprocess.run(
        [sys.executable, *shlex.split(add)[1:], "--password-stdin"],
        input="s3cret-password\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr
    listed = next(ln for ln in lines if ln.startswith("python -m studio.users list"))
    out = subprocess.run(
        [sys.executable, *shlex.split(listed)[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert out.stdout.split() == ["alice"]
    from studio.users import check_login

    assert check_login(users, "alice", "s3cret-password")
    assert not check_login(users, "alice", "wrong-password")
    assert "s3cret-password" not in users.read_text()


def _prose_units(text: str) -> list[str]:
    """README.md's prose as units a reader meets once each: paragraphs and list items, with
    the front matter, code blocks and tables left out, whitespace folded."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    units: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text):
        for line in block.splitlines():
            if line.lstrip().startswith("|"):
                continue
            if re.match(r"\s*(\d+\.|[-*])\s", line) or not units or units[-1] == []:
                units.append([])
            units[-1].append(line.strip())
        units.append([])
    return [" ".join(u) for u in units if u]


SAME_RUN_WORDS = 12  # this many words in the same order, twice: pasted, not written


def repeated_prose(text: str) -> list[str]:
    """What README.md says twice: a run of SAME_RUN_WORDS words (a paragraph, list item or
    sentence pasted again, even cut short or lightly edited), or a number repeated in a
    numbered list."""
    seen: dict[tuple[str, ...], int] = {}
    twice = []
    for unit in _prose_units(text):
        words = tuple(re.sub(r"[*`]", "", unit).split())
        found = None
        for i in range(len(words) - SAME_RUN_WORDS + 1):
            run = words[i : i + SAME_RUN_WORDS]
            seen[run] = seen.get(run, 0) + 1
            found = found or (" ".join(run) if seen[run] == 2 else None)
        if found:  # one example per paragraph or list item that repeats
            twice.append(found)
    for block in re.split(r"\n\s*\n", text):
        numbers = re.findall(r"^(\d+)\.\s", block, flags=re.M)
        twice += [f"list item {n}." for n in sorted(set(numbers)) if numbers.count(n) > 1]
    return twice


def test_readme_says_nothing_twice():
    assert repeated_prose(README) == []


def test_repeated_prose_is_found():
    item = "4. **Train.** Press **Train**. The job runs in its own process from a queue."
    assert repeated_prose(f"Intro.\n\n{item}\n{item}\n") != []
    said = "Then download the LoRA adapter, a merged model, or a GGUF file of the merged model."
    assert repeated_prose(f"6. **Export.** {said}\n   More words here. {said}\n") != []
    assert repeated_prose("1. One thing.\n2. Another.\n\n```\nsame\n```\n```\nsame\n```\n") == []
