"""The GPU check (scripts/gpu_check.sh) without training: its command line, its plan, and the
run configs it writes, read back as the training process reads them. Importing the script
imports every studio entry point it calls, so a renamed one fails here, not on a lent GPU."""

from __future__ import annotations

import pytest

from scripts.gpu_check import AFTER, PATHS, STEPS, Check, parse_args, plan
from scripts.gpu_check_runs import ALL_LINEAR, DATA_ROWS, run_config, write_data
from studio.configs.runs import TrainRun
from studio.configs.schemas import activation_checkpointing
from studio.settings import Settings


def test_the_command_line_defaults_to_20_steps_on_a_gpu_and_3_in_the_cpu_dry_run():
    gpu = parse_args([])
    assert (gpu.cpu, gpu.steps, gpu.keep) == (False, 20, False)
    dry = parse_args(["--cpu"])
    assert (dry.cpu, dry.steps) == (True, 3)
    chosen = parse_args(["--cpu", "--steps", "40", "--keep"])
    assert (chosen.steps, chosen.keep) == (40, True)


@pytest.mark.parametrize("argv", [["--steps", "-1"], ["--gpu"], ["--steps", "many"]])
def test_the_command_line_refuses_what_it_cannot_run(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_the_plan_runs_every_path_on_smollm2_and_mistral_or_tiny_llama_on_a_cpu():
    assert [m for m, _ in plan(cpu=False)] == ["smollm2", "mistral"]
    assert [m for m, _ in plan(cpu=True)] == ["llama", "mistral"]
    for _, steps in plan(cpu=False):
        assert steps == STEPS
    # Training first: generate, evaluate and the merged export read the LoRA run.
    assert STEPS.index("lora-bf16") < min(STEPS.index(s) for s in AFTER)
    assert set(PATHS) == {"qlora-nf4-bf16", "lora-bf16", "prefix-ckpt-off", "prefix-ckpt-on"}


def test_steps_after_training_wait_for_the_lora_run(tmp_path):
    check = Check(tmp_path, cpu=True, steps=1)
    try:
        assert all(check.ready_for("llama", p) for p in PATHS)
        assert not any(check.ready_for("llama", s) for s in AFTER)
        check.lora_jobs["llama"] = {"id": "x"}
        assert check.ready_for("llama", "generate") and check.ready_for("llama", "evaluate")
        assert not check.ready_for("llama", "merged-export")  # needs the exact answer first
        check.lora_jobs["llama"]["exact_text"] = "positive"
        assert check.ready_for("llama", "merged-export")
    finally:
        check.log.close()


@pytest.mark.parametrize("cpu", [False, True])
@pytest.mark.parametrize("path", PATHS)
def test_each_path_writes_a_run_config_the_trainer_reads_as_meant(tmp_path, path, cpu):
    write_data(tmp_path / "data")
    settings = Settings.from_env(home=tmp_path / "home")
    cfg = run_config(path, "packaged:x", tmp_path / "data", settings, cpu=cpu, steps=5)
    run = TrainRun.from_dict(cfg)  # what `python -m studio.train` reads
    compute = "float32" if cpu else "bfloat16"
    assert run.method == ("qlora" if path.startswith("qlora") else "lora")
    if path.startswith("qlora"):
        assert run.quantization["load_in_4bit"] is True
        assert run.quantization["bnb_4bit_quant_type"] == "nf4"
        assert run.quantization["bnb_4bit_compute_dtype"] == compute
    else:
        assert run.quantization == {}
        assert run.model["dtype"] == compute
    assert run.trainer["bf16"] is not cpu
    assert run.trainer["max_steps"] == 5
    assert activation_checkpointing(run.trainer) is (path == "prefix-ckpt-on")
    assert "gradient_checkpointing" not in run.trainer  # the current name only
    assert run.studio.share_prefix is True and run.studio.response_only is True
    assert "share_prefix" not in run.trainer  # a studio option, not a TrainingArguments key
    assert run.peft["target_modules"] == ALL_LINEAR
    rows = (tmp_path / "data" / "train.jsonl").read_text().splitlines()
    assert len(rows) == len(DATA_ROWS) - 8
