"""Launch settings -> the job's command: one process, or accelerate launch with every rank."""

from __future__ import annotations

import json
import shlex
import sys

from studio.configs.hardware import CPU_ONLY, Hardware
from studio.configs.launch import LaunchSettings, default_processes, launch_problems
from studio.jobs.launch import accelerate_config, build_command, launch_export, machine_commands

FOUR_GPUS = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80, gpu_count=4)


def _run(tmp_path, **studio):
    (tmp_path / "config.json").write_text(json.dumps({"kind": "train", "studio": studio}))
    return tmp_path


def _opt(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_one_process_runs_the_module_directly(tmp_path):
    run = _run(tmp_path, processes=1)
    assert build_command("train", run) == [sys.executable, "-m", "studio.train", str(run)]
    assert "python -m studio.train" in launch_export(run)


def test_several_processes_go_through_accelerate_launch(tmp_path):
    run = _run(tmp_path, processes=2)
    cmd = build_command("train", run, resume=True)
    assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert "--multi_gpu" in cmd and "--cpu" not in cmd  # --cpu would start one process
    assert _opt(cmd, "--num_processes") == "2" and _opt(cmd, "--num_machines") == "1"
    assert int(_opt(cmd, "--main_process_port")) > 0
    assert cmd[-4:] == ["-m", "studio.train", str(run), "--resume"]
    # An evaluation job never fans out.
    assert build_command("evaluate", run)[1:3] == ["-m", "studio.evaluate"]


def test_each_machine_gets_its_command_and_config(tmp_path):
    ls = LaunchSettings(processes=4, num_machines=2, main_address="10.0.0.5", main_port=29555)
    run = _run(tmp_path, processes=4, num_machines=2, main_address="10.0.0.5", main_port=29555)
    cmds = [shlex.split(c) for c in machine_commands(run, ls)]
    assert [_opt(c, "--machine_rank") for c in cmds] == ["0", "1"]
    for c in cmds:
        assert c[:2] == ["accelerate", "launch"] and _opt(c, "--num_processes") == "8"
        assert (
            _opt(c, "--main_process_ip") == "10.0.0.5" and _opt(c, "--main_process_port") == "29555"
        )
    assert (
        build_command("train", run)[build_command("train", run).index("--main_process_port") + 1]
        == "29555"
    )
    yaml = accelerate_config(ls, machine_rank=1)
    assert "num_processes: 8\n" in yaml and "machine_rank: 1\n" in yaml
    assert "num_machines: 2\n" in yaml and 'main_process_ip: "10.0.0.5"' in yaml
    text = launch_export(run)
    assert "# machine 1" in text and str(run) in text


def test_launch_settings_are_validated():
    assert default_processes(CPU_ONLY) == 1 and default_processes(FOUR_GPUS) == 4
    assert launch_problems({"processes": 2}, {}, CPU_ONLY) == []  # CPU processes: fine (gloo)
    fsdp = {"fsdp": "full_shard auto_wrap"}
    studio = {"processes": 8, "machine_rank": 2, "num_machines": 2, "main_address": "bad host!"}
    problems = {p.key: p.message for p in launch_problems(studio, fsdp, FOUR_GPUS)}
    assert "4 GPU" in problems["studio.processes"]
    assert {"studio.machine_rank", "studio.main_address"} <= set(problems)
    assert "trainer.fsdp" not in problems  # CUDA: allowed
    cpu = {p.key: p.message for p in launch_problems({"num_machines": 2}, fsdp, CPU_ONLY)}
    assert "CUDA" in cpu["trainer.fsdp"] and "machine 0" in cpu["studio.main_address"]


def test_a_run_config_from_before_the_studio_section_launches_the_same(tmp_path):
    old = {"kind": "train", "trainer": {"processes": 2, "main_port": 29555}}
    (tmp_path / "config.json").write_text(json.dumps(old))
    cmd = build_command("train", tmp_path)
    assert _opt(cmd, "--num_processes") == "2" and _opt(cmd, "--main_process_port") == "29555"
