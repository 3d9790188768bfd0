"""The users file for sign-in off a Space: one `name:scrypt$...` line per user.

    python -m studio.users add alice            # asks for a password twice
    python -m studio.users add alice --password-stdin < pw.txt
    python -m studio.users list | remove alice   # remove also revokes alice's keys and sessions

The file is named by STUDIO_USERS (or --file). Passwords are hashed with hashlib.scrypt
(n=2**14, r=8, p=1, a random 16-byte salt); the plain password is never written.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import os
import re
import secrets
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.settings import Settings
from studio.store import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """An scrypt hash string: scrypt$n$r$p$salt_hex$hash_hex."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a hash_password() string (constant-time compare)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def read_users(path: Path) -> dict[str, str]:
    """{name: hash} from a users file ('#' lines and blank lines ignored)."""
    users: dict[str, str] = {}
    if not path.is_file():
        return users
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            name, stored = line.split(":", 1)
            users[name.strip()] = stored.strip()
    return users


_LISTED_CACHE: dict[Path, tuple[tuple, frozenset[str]]] = {}


def is_listed(path: Path | None, name: str) -> bool:
    """Whether `name` is in the users file now. Asked on every request, so the names are
    cached until the file changes (its inode, size or modification time)."""
    if path is None:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _LISTED_CACHE.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, frozenset(read_users(path)))
        _LISTED_CACHE[path] = cached
    return name in cached[1]


def write_users(path: Path, users: dict[str, str]) -> None:
    """Write the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{n}:{h}\n" for n, h in sorted(users.items())), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def add_user(path: Path, name: str, password: str) -> None:
    """Add `name` (or change their password)."""
    if not NAME.match(name or ""):
        raise StudioError(
            f"User name {name!r} is not allowed: use letters, digits and _ . @ - (at most 64)."
        )
    if len(password) < 8:
        raise StudioError("Passwords need at least 8 characters.")
    users = read_users(path)
    users[name] = hash_password(password)
    write_users(path, users)


_DUMMY: list[str] = []  # a hash made once, checked for unknown names


def check_login(path: Path, name: str, password: str) -> bool:
    """True when `name` is in the users file and `password` is theirs. An unknown name
    costs one hash too, so the time taken does not say which names exist."""
    stored = read_users(path).get((name or "").strip())
    if stored is None:
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_hex(16)))
        verify_password(password or "", _DUMMY[0])
        return False
    return verify_password(password or "", stored)


def forget_in_store(name: str, home: Path) -> int:
    """Revoke `name`'s keys and sessions in the studio's store under `home`, if it has one.
    The server also refuses them at their next use; this makes the removal stick even if
    the name is added again before that."""
    db = Settings.from_env(home=home).db_path
    if not db.is_file():
        return 0
    store = Store(db)
    revoked = store.forget_user(name)
    store.log_activity("", "(command line)", "removed user", f"{name}: {revoked} keys/sessions")
    return revoked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m studio.users",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["add", "remove", "list"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--file", default=os.environ.get("STUDIO_USERS"))
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument(
        "--home",
        default=None,
        help="the studio's STUDIO_HOME, whose keys and sessions `remove` revokes "
        "(default: STUDIO_HOME, or the studio's default)",
    )
    args = parser.parse_args(argv)
    if not args.file:
        parser.error("set STUDIO_USERS or pass --file")
    path = Path(args.file).expanduser()
    if args.command == "list":
        print("\n".join(read_users(path)))
        return 0
    if not args.name:
        parser.error(f"{args.command} needs a NAME")
    if args.command == "remove":
        users = read_users(path)
        if users.pop(args.name, None) is None:
            print(f"No user {args.name!r} in {path}", file=sys.stderr)
            return 1
        write_users(path, users)
        home = Path(args.home).expanduser() if args.home else Settings.from_env().home
        revoked = forget_in_store(args.name, home)
        print(f"Removed {args.name}; revoked {revoked} API key(s) and session(s).")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            print("The passwords differ; nothing changed.", file=sys.stderr)
            return 1
    try:
        add_user(path, args.name, password)
    except StudioError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Added {args.name} to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
