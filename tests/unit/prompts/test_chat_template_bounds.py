"""A model's chat template renders as apply_chat_template does, within bounds: a template
that allocates, loops or writes without end is stopped in its own process, with a message
saying which bound, and the next render works again."""

from __future__ import annotations

import resource

import pytest

from studio.prompts.chat_template import (
    ChatTemplateError,
    _Renderer,
    output_limit,
    render_chat_template,
)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]


@pytest.fixture(scope="module")
def tokenizer(tiny_causal_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_causal_dir)


@pytest.fixture(scope="module")
def quick():
    """A renderer with a short time bound, so the tests wait little."""
    renderer = _Renderer(timeout_s=1.0, memory_mb=256)
    yield renderer
    renderer._stop()


def _render(renderer, tokenizer, template: str) -> str:
    return renderer.render(template, MESSAGES, True, dict(tokenizer.special_tokens_map))


def test_renders_exactly_as_apply_chat_template(tokenizer):
    want = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert render_chat_template(tokenizer, MESSAGES) == want
    plain = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=False)
    assert render_chat_template(tokenizer, MESSAGES, add_generation_prompt=False) == plain


@pytest.mark.parametrize(
    ("template", "match"),
    [
        # One expression that allocates 400 MB (it took the server from 2.9 to 4.5 GB).
        ("{{ 'x' * 400000000 }}", "more than 256 MB"),
        # Doubling a string: a few lines, gigabytes.
        ("{% set s = 'x' * 1000000 %}" + "{% set s = s ~ s %}" * 12 + "{{ s }}", "MB|characters"),
        # Ten billion iterations.
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "longer than 1 s",
        ),
        # More output than a prompt of this conversation can need.
        ("{% for i in range(90000) %}{{ messages[1].content * 3 }}{% endfor %}", "characters"),
        # The sandbox still stands between the template and Python's internals.
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "failed: SecurityError|Undefined"),
        ("{{ raise_exception('no system role') }}", "failed: TemplateError: no system role"),
    ],
)
def test_a_template_that_breaks_a_bound_is_stopped(quick, tokenizer, template, match):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ChatTemplateError, match=match):
        _render(quick, tokenizer, template)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50  # the caller's memory did not take the template's allocation
    # The renderer carries on: the next conversation renders.
    assert "Hi!" in _render(quick, tokenizer, tokenizer.chat_template)


def test_the_output_bound_follows_the_conversation():
    small = output_limit([{"role": "user", "content": "x"}])
    big = output_limit([{"role": "user", "content": "x" * 1_000_000}])
    assert small < big and big >= 4_000_000
