"""The "Serve it" section of every export's model card: text-generation-inference, vLLM and
Ollama (a Modelfile), ready to paste, for the adapter, merged and GGUF exports."""

from __future__ import annotations


def modelfile(gguf_file: str, chat: bool) -> str:
    """An Ollama Modelfile for a GGUF export; the prompt goes through unchanged unless the
    model was trained on a chat template (Ollama then uses the template in the GGUF)."""
    lines = [f"FROM ./{gguf_file}"]
    if not chat:
        # The studio's own prompt layout: send the prompt exactly as the card shows it.
        lines += ['TEMPLATE """{{ .Prompt }}"""']
    lines += ["PARAMETER temperature 0", "PARAMETER num_predict 128"]
    return "\n".join(lines) + "\n"


def serving_section(kind: str, base: str, chat: bool, gguf_file: str = "") -> list[str]:
    """Markdown lines. kind: "adapter" (LoRA folder), "merged" (full model) or "gguf"."""
    folder = "/path/to/this/folder"
    lines = ["", "## Serve it", ""]
    if kind == "gguf":
        lines += [
            "**Ollama** (the Modelfile is in this download):",
            "",
            "```bash",
            "ollama create my-model -f Modelfile",
            'ollama run my-model "your prompt"',
            "```",
            "",
            "```text",
            modelfile(gguf_file, chat).rstrip(),
            "```",
            "",
            "**llama.cpp**:",
            "",
            "```bash",
            f"llama-server -m {gguf_file} --port 8080  # OpenAI-compatible at /v1",
            "```",
            "",
            "**vLLM** (GGUF support is experimental; the tokenizer comes from the base model):",
            "",
            "```bash",
            f"vllm serve ./{gguf_file} --tokenizer {base}",
            "```",
            "",
            "**text-generation-inference** serves safetensors: use the merged-model download",
            "(`--model-id /data/merged`).",
        ]
        return lines
    if kind == "merged":
        tgi = f"--model-id /data/{folder.rsplit('/', 1)[-1]}"
        vllm = f"vllm serve {folder}"
        ollama = [f"FROM {folder}"]
    else:
        tgi = f"--model-id {base} --lora-adapters tuned=/data/{folder.rsplit('/', 1)[-1]}"
        vllm = f"vllm serve {base} --enable-lora --lora-modules tuned={folder}"
        ollama = [f"FROM {base}", f"ADAPTER {folder}"]
    if not chat:
        ollama += ['TEMPLATE """{{ .Prompt }}"""']
    lines += [
        "**text-generation-inference** (Docker):",
        "",
        "```bash",
        f"docker run -p 8080:80 -v {folder.rsplit('/', 1)[0]}:/data "
        f"ghcr.io/huggingface/text-generation-inference:latest {tgi}",
        "```",
        "",
        "**vLLM** (OpenAI-compatible server on port 8000):",
        "",
        "```bash",
        vllm,
        "```",
        "",
        "**Ollama** (`ollama create my-model -f Modelfile` with this Modelfile; Llama and "
        "Mistral architectures import directly, or use the studio's GGUF export):",
        "",
        "```text",
        *ollama,
        "```",
    ]
    return lines
