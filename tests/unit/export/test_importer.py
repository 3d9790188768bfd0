"""Malicious or broken adapter zips are refused with a message saying why."""

from __future__ import annotations

import json
import stat
import zipfile

import pytest

from studio.export.importer import ImportRefused, check_zip, import_adapter_zip

CONFIG = json.dumps({"base_model_name_or_path": "packaged:SmolLM2-135M-Instruct",
                     "peft_type": "LORA", "r": 4})  # fmt: skip


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
    big = make_zip(tmp_path / "c.zip", {**good_members(), "vocab.txt": b"a" * (5 << 20)},
                   compress=zipfile.ZIP_STORED)  # fmt: skip
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
    path = make_zip(tmp_path / "u.zip", {"adapter_config.json": cfg,
                                         "adapter_model.safetensors": b"x"})  # fmt: skip
    with pytest.raises(ImportRefused, match="not one of the studio's base models"):
        import_adapter_zip(store, settings, app["id"], path)
    path = make_zip(tmp_path / "k.zip", good_members())
    with pytest.raises(ImportRefused, match="not a valid safetensors"):
        import_adapter_zip(store, settings, app["id"], path)
    assert store.list_jobs(app_id=app["id"]) == []
    assert not list((settings.tmp_dir).iterdir())  # the staging folder is gone
