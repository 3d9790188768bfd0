"""Import a LoRA adapter zip exported elsewhere, so Generate and Evaluate can use it.

Checked before anything is written where the studio reads it:
- a real zip; no absolute paths, no '..', no symlinks, no drive letters;
- weights as safetensors only: .bin/.pt/.pkl and other pickle files are refused;
- only model-folder file types (json, safetensors, txt, md, tokenizer.model, jinja);
- total uncompressed size under max_upload_mb * SIZE_FACTOR, each member's compression
  ratio under MAX_RATIO (zip bombs), sizes checked while extracting, not trusted from headers;
- adapter_config.json + adapter_model.safetensors present, and the adapter's base model is a
  known base (a template's or the packaged one) or the base the user confirmed. The base is
  read from adapter_config.json, else from the zip's studio.json (the studio's own exports:
  training records the converted SmolLM2's machine-local folder in adapter_config.json);
- adapter_config.json is a LoRA config whose every size fits the base, and the file holds
  exactly the tensors that config makes on the base (studio.export.weights and
  adapter_config): nothing PEFT would allocate on load is unbounded.
Then it is registered as a succeeded job of kind "import" whose RUN_DIR/adapter holds it.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from studio import jsonsafe
from studio.configs.table import SETTINGS
from studio.errors import ImportRefused, redact_paths
from studio.export.weights import check_adapter_weights
from studio.jobs.run_folder import RunFolder
from studio.models.loading import load_tokenizer
from studio.models.resolve import (
    PACKAGED_HUB_ID,
    PACKAGED_REF,
    model_availability,
    packaged_model_dir,
)
from studio.prompts.layout import PromptLayout
from studio.prompts.render import PROMPT_FORMATS
from studio.settings import Settings
from studio.store.job_states import IMPORT, SUCCEEDED
from studio.store.rows import new_id
from studio.templates import TEMPLATES
from studio.vocab.models import TOKENIZER_DEFAULTS

SIZE_FACTOR = 4  # an adapter zip may expand to 4x the upload limit
MAX_RATIO = 100  # uncompressed / compressed per member; weights barely compress
MAX_MEMBERS = 200
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz"}
ALLOWED_SUFFIXES = {".json", ".safetensors", ".txt", ".md", ".model", ".jinja"}
_DRIVE = re.compile(r"^[A-Za-z]:")


def known_bases(settings: Settings) -> set[str]:
    """Base model refs the studio knows: every template's, and the packaged SmolLM2."""
    bases = {PACKAGED_REF, PACKAGED_HUB_ID}
    bases |= {t.base_model for t in TEMPLATES.values() if t.base_model}
    return bases


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename.replace("\\", "/")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ImportRefused(f"The zip holds a symbolic link ({info.filename}); links are refused.")
    if name.startswith("/") or _DRIVE.match(name):
        raise ImportRefused(f"The zip holds an absolute path ({info.filename}); refused.")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise ImportRefused(
            f"The zip holds a path that leaves its folder ({info.filename}); refused."
        )
    return path


def _check_declared_sizes(infos: list[zipfile.ZipInfo], archive_size: int) -> None:
    """Refuse, before extracting, a zip whose headers claim what its bytes cannot hold."""
    for info in infos:
        if (
            info.compress_size < 0
            or info.file_size < 0
            or (info.header_offset + info.compress_size > archive_size)
        ):
            raise ImportRefused(
                f"The zip's entry {info.filename[:100]} declares {info.compress_size} bytes "
                f"that the {archive_size}-byte archive cannot hold: its declared sizes are "
                "wrong (a damaged or crafted zip). Zip the adapter folder again."
            )
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ImportRefused(
                f"The zip's entry {info.filename[:100]} is stored uncompressed but declares "
                f"{info.file_size} bytes for {info.compress_size} stored: its declared sizes "
                "are wrong (a damaged or crafted zip). Zip the adapter folder again."
            )


def check_zip(
    zip_path: str | Path, settings: Settings
) -> tuple[list[zipfile.ZipInfo], PurePosixPath]:
    """(file members, folder inside the zip holding adapter_config.json) or ImportRefused."""
    if not zipfile.is_zipfile(zip_path):
        raise ImportRefused("The uploaded file is not a zip archive; upload the adapter .zip.")
    limit = settings.max_upload_mb * SIZE_FACTOR * 1024 * 1024
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportRefused(
            "The zip archive is damaged and cannot be read; zip the adapter folder again."
        ) from None
    _check_declared_sizes(infos, Path(zip_path).stat().st_size)
    if len(infos) > MAX_MEMBERS:
        raise ImportRefused(f"The zip holds {len(infos)} entries; an adapter has a handful.")
    files, total = [], 0
    for info in infos:
        path = _member_path(info)
        if info.is_dir():
            continue
        suffix = path.suffix.lower()
        if suffix in PICKLE_SUFFIXES or "pickle" in path.name.lower():
            raise ImportRefused(
                f"{info.filename}: pickle-based files ({suffix}) can run code when loaded and "
                "are refused. Save the adapter with safetensors (save_pretrained's default) "
                "and zip it again."
            )
        if suffix not in ALLOWED_SUFFIXES:
            raise ImportRefused(
                f"{info.filename}: unexpected file type; an adapter zip holds only "
                f"{', '.join(sorted(ALLOWED_SUFFIXES))} files."
            )
        total += info.file_size
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1 << 20:
            raise ImportRefused(
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}x: "
                "the zip looks like a zip bomb and is refused."
            )
        files.append(info)
    if total > limit:
        raise ImportRefused(
            f"The zip expands to {total / 2**20:.0f} MB, over the {limit // 2**20} MB limit "
            f"({SIZE_FACTOR}x the {settings.max_upload_mb} MB upload limit)."
        )
    configs = sorted(
        (_member_path(i) for i in files if i.filename.endswith("adapter_config.json")),
        key=lambda p: len(p.parts),
    )
    if not configs:
        raise ImportRefused(
            "The zip has no adapter_config.json: export the LoRA adapter folder "
            "(model.save_pretrained) and zip that folder."
        )
    root = configs[0].parent
    names = {_member_path(i) for i in files}
    if root / "adapter_model.safetensors" not in names:
        raise ImportRefused("The zip has no adapter_model.safetensors beside adapter_config.json.")
    return [i for i in files if _member_path(i).is_relative_to(root)], root


def _extract(
    zip_path: Path, infos: list[zipfile.ZipInfo], root: PurePosixPath, dest: Path, limit: int
) -> None:
    dest.mkdir(parents=True)
    written = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in infos:
            rel = _member_path(info).relative_to(root)
            target = (dest / rel).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise ImportRefused(f"{info.filename} would be written outside the folder.")
            target.parent.mkdir(parents=True, exist_ok=True)
            member = 0
            try:
                with zf.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        member += len(chunk)
                        if written > limit:  # headers can lie about sizes
                            raise ImportRefused("The zip expands beyond the size limit; refused.")
                        out.write(chunk)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                RuntimeError,
                NotImplementedError,
            ) as exc:
                raise ImportRefused(
                    f"The zip's entry {info.filename[:100]} does not hold what its header "
                    f"declares ({_reason(exc)}): a damaged or crafted zip. Zip the adapter "
                    "folder again."
                ) from None
            if member != info.file_size:
                raise ImportRefused(
                    f"The zip's entry {info.filename[:100]} declares {info.file_size} bytes "
                    f"but holds {member}: a damaged or crafted zip. Zip the adapter folder again."
                )


def _reason(exc: BaseException) -> str:
    """An error's own words without server paths."""
    return redact_paths(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]


def _read_json(path: Path, what: str) -> dict:
    try:
        data = jsonsafe.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{what} is not valid JSON ({_reason(exc)}).") from None
    if not isinstance(data, dict):
        raise ImportRefused(f"{what} must hold a JSON object.")
    return data


def _known_ref(ref: str, settings: Settings) -> str | None:
    """`ref` as a known base ref (the converted SmolLM2 folder -> the packaged ref), or None."""
    if ref in known_bases(settings):
        return ref
    try:
        if ref and Path(ref).expanduser().resolve() == packaged_model_dir(settings).resolve():
            return PACKAGED_REF
    except (OSError, RuntimeError):
        pass
    return None


def _base_ref(
    adapter_base: str, confirmed: str | None, settings: Settings, studio_base: str = ""
) -> str:
    known = _known_ref(adapter_base, settings) or _known_ref(studio_base, settings)
    ref = (confirmed or "").strip() or known or adapter_base
    if not confirmed and not known:
        raise ImportRefused(
            f"The adapter was trained on {adapter_base or '(no base_model_name_or_path)'!r}, "
            "which is not one of the studio's base models. If that model is on this machine, "
            "type its folder or Hub id in 'Base model' to confirm it and import again."
        )
    ref = PACKAGED_REF if ref == PACKAGED_HUB_ID else ref  # the offline copy of the same model
    ok, reason = model_availability(ref, settings)
    if not ok:
        raise ImportRefused(f"The adapter's base model {ref!r} cannot be loaded here: {reason}")
    return ref


def import_adapter_zip(
    store,
    settings: Settings,
    app_id: str,
    zip_path: str | Path,
    confirmed_base: str | None = None,
    name: str = "",
) -> dict:
    """Validate, extract and register an adapter zip; returns the succeeded "import" job row."""
    store.get_app(app_id)
    zip_path = Path(zip_path)
    infos, root = check_zip(zip_path, settings)
    limit = settings.max_upload_mb * SIZE_FACTOR * 1024 * 1024
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.tmp_dir) as tmp:
        staged = Path(tmp) / "adapter"
        _extract(zip_path, infos, root, staged, limit)
        adapter_cfg = _read_json(staged / "adapter_config.json", "adapter_config.json")
        theirs = (
            _read_json(staged / "studio.json", "studio.json")
            if (staged / "studio.json").is_file()
            else {}
        )
        base = _base_ref(
            str(adapter_cfg.get("base_model_name_or_path") or ""),
            confirmed_base,
            settings,
            str(theirs.get("base_model") or ""),
        )
        # LoRA only, every size bounded by the base, refused before anything is stored.
        model_type = check_adapter_weights(
            staged / "adapter_model.safetensors", base, settings, adapter_cfg
        )
        fmt = theirs.get("prompt_format") if theirs.get("prompt_format") in PROMPT_FORMATS else None
        job_id = new_id()
        meta = {
            "base_model": base,
            "model_type": model_type,
            "method": "lora",
            "prompt_format": fmt or TOKENIZER_DEFAULTS["prompt_format"],
            "max_length": int(theirs.get("max_length") or SETTINGS["max_length"].default)
            if str(theirs.get("max_length", "")).isdigit()
            else SETTINGS["max_length"].default,
            "template": "imported",
            "job_id": job_id,
        }
        layout = PromptLayout.from_meta(theirs)  # prompts laid out as the model was trained
        if layout is not None:
            meta.update(layout.to_meta())
        (staged / "studio.json").write_text(json.dumps(meta, indent=2))
        if not any((staged / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
            load_tokenizer(base, settings).save_pretrained(staged)
        run_dir = store.app_dir(app_id) / "runs" / job_id
        run_dir.mkdir(parents=True)
        shutil.move(str(staged), RunFolder(run_dir).adapter_dir)
    params = {"source": zip_path.name[:200], "base_model": base, "name": name[:100]}
    now = time.time()
    return store.create_job(
        app_id,
        None,
        IMPORT,
        params,
        str(run_dir),
        job_id,
        status=SUCCEEDED,
        reason="Imported adapter zip.",
        started_at=now,
        finished_at=now,
        summary={"imported": True},
    )
