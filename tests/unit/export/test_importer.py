"""Malicious or broken adapter zips are refused with a message saying why."""

from __future__ import annotations

import json
import stat
import zipfile

import pytest

from studio.errors import ImportRefused
from studio.export.importer import check_zip, import_adapter_zip
from studio.jobs.trained import trained_model

CONFIG = json.dumps(
    {"base_model_name_or_path": "packaged:SmolLM2-135M-Instruct", "peft_type": "LORA", "r": 4}
)


def make_zip(path, members: dict[str, bytes | str], compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def good_members() -> dict:
    return {"adapter_config.json": CONFIG, "adapter_model.safetensors": b"x" * 10}


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({**good_members(), "../x.json": "{}"}, "leaves its folder"),
        ({**good_members(), "a/../../x.json": "{}"}, "leaves its folder"),
        ({**good_members(), "/etc/x.json": "{}"}, "absolute path"),
        ({**good_members(), "C:/x.json": "{}"}, "absolute path"),
        ({**good_members(), "pytorch_model.bin": b"\x80\x04"}, "pickle-based"),
        ({**good_members(), "weights.pkl": b"\x80\x04"}, "pickle-based"),
        ({**good_members(), "run.sh": "rm -rf /"}, "unexpected file type"),
        ({"adapter_model.safetensors": b"x"}, "no adapter_config.json"),
        ({"adapter_config.json": CONFIG}, "no adapter_model.safetensors"),
    ],
)
def test_refused(tmp_path, settings, members, message):
    path = make_zip(tmp_path / "a.zip", members)
    with pytest.raises(ImportRefused, match=message):
        check_zip(path, settings)


def test_symlink_refused(tmp_path, settings):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in good_members().items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("tokenizer.json")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ImportRefused, match="symbolic link"):
        check_zip(path, settings)


def test_zip_bomb_and_oversize(tmp_path, settings):
    bomb = make_zip(tmp_path / "b.zip", {**good_members(), "tokenizer.json": b"\0" * (4 << 20)})
    with pytest.raises(ImportRefused, match="zip bomb"):
        check_zip(bomb, settings)
    small = settings.__class__.from_env(home=settings.home, max_upload_mb=1)
    big = make_zip(
        tmp_path / "c.zip",
        {**good_members(), "vocab.txt": b"a" * (5 << 20)},
        compress=zipfile.ZIP_STORED,
    )
    with pytest.raises(ImportRefused, match="over the 4 MB limit"):
        check_zip(big, small)


def test_not_a_zip_and_nested_root(tmp_path, settings):
    (tmp_path / "x.zip").write_text("hello")
    with pytest.raises(ImportRefused, match="not a zip"):
        check_zip(tmp_path / "x.zip", settings)
    nested = make_zip(tmp_path / "n.zip", {f"my-adapter/{k}": v for k, v in good_members().items()})
    infos, root = check_zip(nested, settings)
    assert str(root) == "my-adapter" and len(infos) == 2


def test_unknown_base_needs_confirmation_and_bad_weights(tmp_path, settings, store):
    app = store.create_app("imp")
    cfg = json.dumps({"base_model_name_or_path": "someone/unknown-model"})
    path = make_zip(
        tmp_path / "u.zip", {"adapter_config.json": cfg, "adapter_model.safetensors": b"x"}
    )
    with pytest.raises(ImportRefused, match="not one of the studio's base models"):
        import_adapter_zip(store, settings, app["id"], path)
    path = make_zip(tmp_path / "k.zip", good_members())
    with pytest.raises(ImportRefused, match="not a valid safetensors"):
        import_adapter_zip(store, settings, app["id"], path)
    assert store.list_jobs(app_id=app["id"]) == []
    assert not list((settings.tmp_dir).iterdir())  # the staging folder is gone


def _studio_run(store, settings, base_dir, base_ref):
    """A trained run as studio.train leaves it: studio.json names the base ref, while
    adapter_config.json names the machine-local folder the base was loaded from."""
    from tests.support.trained import make_trained_run

    run = make_trained_run(store, settings, base_dir)
    adapter = run["run_dir"] / "adapter"
    meta = json.loads((adapter / "studio.json").read_text())
    (adapter / "studio.json").write_text(json.dumps({**meta, "base_model": base_ref}))
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(base_dir)
    (adapter / "adapter_config.json").write_text(json.dumps(cfg))
    return run


def _rezip(zip_path, out, **overrides):
    """A copy of an exported zip with adapter_config.json / studio.json fields changed."""
    with zipfile.ZipFile(zip_path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for name, fields in overrides.items():
        data = {**json.loads(members[name]), **fields}
        members[name] = json.dumps({k: v for k, v in data.items() if v is not None})
    return make_zip(out, members)


def test_studio_export_reimports_without_typing_a_base(
    tmp_path, settings, store, packaged_model_dir
):
    from studio.export import export_adapter_zip
    from studio.models.resolve import PACKAGED_HUB_ID, PACKAGED_REF

    run = _studio_run(store, settings, packaged_model_dir, PACKAGED_REF)
    path = export_adapter_zip(store, settings, trained_model(store, run["job_id"]))
    with zipfile.ZipFile(path) as zf:  # loadable outside the studio: the public Hub id
        assert json.loads(zf.read("adapter_config.json"))["base_model_name_or_path"] == (
            PACKAGED_HUB_ID
        )
    other = store.create_app("elsewhere")["id"]
    job = import_adapter_zip(store, settings, other, path)
    assert job["status"] == "succeeded" and job["params"]["base_model"] == PACKAGED_REF
    # A zip from another machine: its local folder is unknown here; studio.json names the base.
    moved = _rezip(
        path,
        tmp_path / "moved.zip",
        **{"adapter_config.json": {"base_model_name_or_path": "/elsewhere/SmolLM2-135M-Instruct"}},
    )
    assert import_adapter_zip(store, settings, other, moved)["params"]["base_model"] == (
        PACKAGED_REF
    )
    # No studio.json, but this machine's converted folder: the packaged ref too.
    local = _rezip(
        path,
        tmp_path / "local.zip",
        **{"adapter_config.json": {"base_model_name_or_path": str(packaged_model_dir)}},
    )
    with zipfile.ZipFile(local) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "studio.json"}
    local = make_zip(tmp_path / "local2.zip", members)
    assert import_adapter_zip(store, settings, other, local)["params"]["base_model"] == (
        PACKAGED_REF
    )
    unknown = _rezip(
        path,
        tmp_path / "unknown.zip",
        **{
            "adapter_config.json": {"base_model_name_or_path": "/elsewhere/x"},
            "studio.json": {"base_model": "/elsewhere/x"},
        },
    )
    with pytest.raises(ImportRefused, match="not one of the studio's base models"):
        import_adapter_zip(store, settings, other, unknown)


def test_adapter_for_another_model_is_refused(
    tmp_path, settings, store, tiny_causal_dir, packaged_model_dir
):
    """A LoRA trained on the tiny model (hidden 64, 2 layers) does not fit SmolLM2 (576)."""
    from studio.export import export_adapter_zip
    from studio.models.resolve import PACKAGED_REF

    run = _studio_run(store, settings, tiny_causal_dir, PACKAGED_REF)
    path = export_adapter_zip(store, settings, trained_model(store, run["job_id"]))
    other = store.create_app("elsewhere")["id"]
    with pytest.raises(ImportRefused, match=r"maps 64 -> \d+ features.*hidden size 576"):
        import_adapter_zip(store, settings, other, path)
    assert store.list_jobs(app_id=other) == []
    # The same zip with its real base confirmed imports.
    job = import_adapter_zip(store, settings, other, path, confirmed_base=str(tiny_causal_dir))
    assert job["status"] == "succeeded"


def test_check_shapes_layers_and_hidden_size():
    from studio.export.weights import check_shapes

    cfg = {"hidden_size": 64, "num_hidden_layers": 2}
    key = "base_model.model.model.layers.{}.self_attn.q_proj.lora_{}.weight"
    check_shapes({key.format(1, "A"): [4, 64], key.format(1, "B"): [64, 4]}, cfg, "tiny")
    with pytest.raises(ImportRefused, match="layer 5 .* has 2 layers"):
        check_shapes({key.format(5, "A"): [4, 64]}, cfg, "tiny")
    with pytest.raises(ImportRefused, match="maps 576 -> 576 features"):
        check_shapes({key.format(0, "A"): [4, 576], key.format(0, "B"): [576, 4]}, cfg, "tiny")
    embed = "base_model.model.model.embed_tokens.lora_embedding_{}"
    check_shapes({embed.format("A"): [4, 1000], embed.format("B"): [64, 4]}, cfg, "tiny")


def test_import_keeps_the_prompt_layout_it_was_trained_with(
    tmp_path, settings, store, packaged_model_dir
):
    from studio.export import export_adapter_zip
    from studio.generate.refs import resolve_spec
    from studio.models.resolve import PACKAGED_REF

    run = _studio_run(store, settings, packaged_model_dir, PACKAGED_REF)
    path = export_adapter_zip(store, settings, trained_model(store, run["job_id"]))
    layout = {
        "style": "input_response",
        "preamble": "Below is an instruction.",
        "input_preamble": "Below is an instruction, with an input.",
    }
    trained = _rezip(path, tmp_path / "laid-out.zip", **{"studio.json": layout})
    job = import_adapter_zip(store, settings, store.create_app("elsewhere")["id"], trained)
    spec = resolve_spec(f"job:{job['id']}", store, settings)
    assert spec.layout.to_meta() == layout  # Generate lays prompts out as in training
