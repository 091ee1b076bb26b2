"""Small JSON files saved beside index files (a sharded index's manifest, a document store's
metadata): written atomically (temporary file, fsync, rename), so a reader sees the previous
save or the new one, never a mix; read back with their format checked."""
from __future__ import annotations

import json
import os
import uuid


def write_atomic(path, content, **dump_options):
    """json.dump(content) to path via a temporary file beside it (named for this writer: two
    writers of one path do not share one); a TypeError from json (content that is not
    JSON-serialisable) leaves the previous file untouched, and no temporary file behind."""
    text = json.dumps(content, **dump_options)  # before any file is opened: nothing to clean up
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    sync_folder(os.path.dirname(path) or ".")


def replace_durably(source, target):
    """os.replace, then the folder's entry made durable (sync_folder)."""
    os.replace(source, target)
    sync_folder(os.path.dirname(target) or ".")


def sync_folder(folder):
    """Makes a rename in folder durable: without it a power cut may bring back the old name.
    Nothing where folders cannot be opened or synced (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_checked(path, expected_format, missing):
    """The JSON object at path, whose "format" must be expected_format (or one of a tuple of
    formats); OSError naming the problem otherwise (`missing`: what to say when the file does
    not exist)."""
    try:
        with open(path) as f:
            content = json.load(f)
    except FileNotFoundError:
        raise OSError(f"{path}: {missing}") from None
    except json.JSONDecodeError as e:
        raise OSError(f"{path}: unreadable ({e})") from None
    accepted = expected_format if isinstance(expected_format, tuple) else (expected_format,)
    found = content.get("format") if isinstance(content, dict) else None
    if found not in accepted:
        expected = " or ".join(repr(f) for f in accepted)
        raise OSError(f"{path}: format {found!r}, expected {expected}")
    return content
