"""A model's chat template, rendered with bounds on time, memory and output size.

    text = render_chat_template(tokenizer, messages, add_generation_prompt=True)

A chat template is code that came with the model: an imported adapter's
chat_template.jinja, or a Hub model's tokenizer_config.json. transformers renders it in
Jinja's ImmutableSandboxedEnvironment, which stops it reaching Python's internals but not
from computing `'x' * 400000000` or looping for hours. So the studio renders it with
transformers' own function (the same sandbox, the same variables as apply_chat_template)
in a small worker process of its own that:

- answers within RENDER_TIMEOUT_S, or is killed (and started again for the next render);
- may use MEMORY_MB above what it holds at rest (RLIMIT_AS), so a template that allocates
  fails there, never in the server;
- returns at most `output_limit(messages)` characters: a few times what it was given.

A refusal is a ChatTemplateError saying which bound the template broke. The worker starts on
the first render of each process (about a second: it imports transformers' template code);
one render runs at a time per process.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from studio.errors import StudioError

RENDER_TIMEOUT_S = 5.0
STARTUP_S = 60.0  # a new worker's imports, on a busy machine
MEMORY_MB = 512
MIN_OUTPUT_CHARS = 200_000  # the template's own text: system prompts, tool instructions
OUTPUT_PER_INPUT = 4  # a template wraps each message; it does not multiply it


class ChatTemplateError(StudioError):
    """A chat template that broke a bound or failed while rendering."""


_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the studio package


def output_limit(messages: list[dict[str, Any]]) -> int:
    """The most characters a rendering of `messages` may return."""
    given = sum(len(str(m.get("content", ""))) for m in messages)
    return MIN_OUTPUT_CHARS + OUTPUT_PER_INPUT * given


def render_chat_template(
    tokenizer: Any, messages: list[dict[str, Any]], add_generation_prompt: bool = True
) -> str:
    """`tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...)`,
    rendered within the bounds above."""
    template = tokenizer.get_chat_template()
    tokens = dict(getattr(tokenizer, "special_tokens_map", None) or {})
    return _RENDERER.render(template, list(messages), add_generation_prompt, tokens)


class _Renderer:
    """One worker process (`python -m studio.prompts.chat_template`), started on first use
    and again after it is stopped; requests and answers are JSON lines on its pipes."""

    def __init__(self, timeout_s: float = RENDER_TIMEOUT_S, memory_mb: int = MEMORY_MB):
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def render(self, template: str, messages: list, add_prompt: bool, tokens: dict) -> str:
        limit = output_limit(messages)
        request = [template, messages, add_prompt, tokens, limit]
        with self._lock:
            answer = self._ask(json.dumps(request) + "\n")
        kind, value = answer
        if kind == "ok":
            return value
        if kind == "timeout":
            raise ChatTemplateError(
                f"The model's chat template took longer than {self.timeout_s:g} s to "
                "render this conversation and was stopped. Fix the template "
                "(chat_template.jinja) or use the sections prompt format."
            )
        if kind == "memory":
            raise ChatTemplateError(
                f"The model's chat template needed more than {self.memory_mb} MB to render "
                "this conversation and was stopped. Fix the template (chat_template.jinja)."
            )
        if kind == "too_long":
            raise ChatTemplateError(
                f"The model's chat template made a prompt of {value:,} characters from this "
                f"conversation (at most {limit:,} are accepted). Fix the template "
                "(chat_template.jinja)."
            )
        raise ChatTemplateError(f"The model's chat template failed: {value}")

    def _ask(self, line: str) -> list:
        proc = self._worker()
        try:
            proc.stdin.write(line.encode("utf-8"))
            proc.stdin.flush()
        except OSError:  # it died since the last request
            self._stop()
            proc = self._worker()
            proc.stdin.write(line.encode("utf-8"))
            proc.stdin.flush()
        if not self._answered_within(proc, self.timeout_s):
            self._stop()
            return ["timeout", ""]
        raw = proc.stdout.readline()
        if not raw:  # it died: out of memory
            self._stop()
            return ["memory", ""]
        answer = json.loads(raw)
        if answer[0] == "memory":
            self._stop()
        return answer

    def _worker(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ)
            paths = [str(_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "studio.prompts.chat_template", str(self.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            # It says "ready" once its imports are done: only the render itself is timed.
            started = self._answered_within(self._proc, STARTUP_S)
            if not started or json.loads(self._proc.stdout.readline() or "[]") != ["ready"]:
                self._stop()
                raise ChatTemplateError(
                    "The chat template renderer did not start; see the server log."
                )
        return self._proc

    @staticmethod
    def _answered_within(proc: subprocess.Popen, seconds: float) -> bool:
        ready, _, _ = select.select([proc.stdout], [], [], seconds)
        return bool(ready)

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            for pipe in (self._proc.stdin, self._proc.stdout):
                pipe.close()
        self._proc = None


def serve(memory_mb: int) -> None:
    """The worker's loop: one JSON request a line on stdin, one answer a line on stdout."""
    # Only answers go to the parent: anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from transformers.utils.chat_template_utils import render_jinja_template

    _limit_memory(memory_mb)
    out.write(json.dumps(["ready"]) + "\n")
    out.flush()
    for raw in sys.stdin:
        try:
            template, messages, add_prompt, tokens, limit = json.loads(raw)
            rendered, _ = render_jinja_template(
                conversations=[messages],
                chat_template=template,
                add_generation_prompt=add_prompt,
                **tokens,
            )
            text = rendered[0]
            answer = ["ok", text] if len(text) <= limit else ["too_long", len(text)]
        except MemoryError:
            answer = ["memory", ""]
        except Exception as exc:  # the template's own error (raise_exception, a typo...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            answer = ["error", f"{type(exc).__name__}: {first}"[:300]]
        try:
            out.write(json.dumps(answer) + "\n")
            out.flush()
        except MemoryError:
            return
        if answer[0] == "memory":
            return  # a process that ran out of memory is not trusted to carry on


def _limit_memory(memory_mb: int) -> None:
    """Cap the worker's address space at what it uses now plus `memory_mb` (Linux)."""
    try:
        import resource

        with open("/proc/self/status") as fh:
            vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        cap = vm + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, OSError, ValueError, StopIteration):
        pass  # elsewhere only the time and output bounds apply


_RENDERER = _Renderer()

if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_MB)
