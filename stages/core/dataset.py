"""Find and check the Kaggle layout inside a zip or a folder, and read its members safely.

Layout: [<prefix>/]train_data/<class>/<n>.bmp and [<prefix>/]test_data/0/<id>.bmp.
"""
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import UserError

IMAGE_SUFFIXES = {".bmp", ".png", ".jpg", ".jpeg"}
FIX_LAYOUT = "expected train_data/<class>/<n>.bmp and test_data/0/<id>.bmp, as in the Kaggle real_or_drawing.zip"


@dataclass
class Layout:
    """Where every image of a dataset lives; read(name) returns a member's bytes."""

    origin: str
    source_files: dict = field(default_factory=dict)  # class index -> sorted member names
    target_files: list = field(default_factory=list)  # member names, sorted by id
    target_ids: list = field(default_factory=list)
    prefix: tuple = ()  # folders above train_data/ inside the zip or folder
    _zip: zipfile.ZipFile | None = None
    _root: Path | None = None

    @property
    def num_classes(self):
        return len(self.source_files)

    def read(self, name) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        return (self._root / name).read_bytes()

    def relative(self, name) -> str:
        """The member's path below the dataset folder (the same for a zip and its unzipped copy)."""
        return "/".join(PurePosixPath(name).parts[len(self.prefix) :])

    def describe(self, name) -> str:
        return f"{self.origin}:{name}" if self._zip is not None else str(self._root / name)

    def close(self):
        if self._zip is not None:
            self._zip.close()


def _is_hidden(parts):
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _safe_parts(name, origin):
    """Refuse any member path that would escape the dataset folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise UserError(f"{origin}: member {name!r} would escape its folder; refusing this archive")
    return path.parts


def _list_zip(path):
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not a zip file: give the Kaggle real_or_drawing.zip or its unzipped folder")
    archive = zipfile.ZipFile(path)
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    dirs = [info.filename for info in archive.infolist() if info.is_dir()]
    for name in names + dirs:
        _safe_parts(name, path)
    return archive, names, dirs


def _list_folder(path):
    path = Path(path)
    if (path / "train_data").is_dir() or (path / "test_data").is_dir():
        root = path
    elif (path / "real_or_drawing").is_dir():
        root = path / "real_or_drawing"
    else:
        raise UserError(f"{path} has no train_data/ or test_data/ folder: {FIX_LAYOUT}")
    names, dirs = [], []
    for folder, subdirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        dirs.extend((rel / d).as_posix() + "/" for d in subdirs)
        names.extend((rel / f).as_posix() for f in files)
    return root, names, dirs


def _split_prefix(names, origin):
    """Find the folder that holds train_data/ (it may be nested, as real_or_drawing/ is in the zip)."""
    prefixes = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if _is_hidden(parts):
            continue
        for i, part in enumerate(parts):
            if part in ("train_data", "test_data"):
                prefixes.add(parts[:i])
                break
    if not prefixes:
        raise UserError(f"{origin} has no train_data/ or test_data/ inside: {FIX_LAYOUT}")
    if len(prefixes) > 1:
        shown = ", ".join("/".join(p) or "(top)" for p in sorted(prefixes))
        raise UserError(f"{origin} holds several datasets ({shown}): keep one real_or_drawing folder")
    return prefixes.pop()


def _image_members(names, prefix, top):
    """Yield (member name, parts below top/) for every visible image file under prefix/top/."""
    depth = len(prefix) + 1
    for name in names:
        parts = PurePosixPath(name).parts
        if parts[: depth - 1] != prefix or len(parts) <= depth or parts[depth - 1] != top:
            continue
        if _is_hidden(parts) or PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        yield name, parts[depth:]


def _class_folders(dirs, names, prefix):
    """Every folder name directly under train_data/, empty ones included."""
    found = set()
    depth = len(prefix) + 1
    for entry in list(dirs) + list(names):
        parts = PurePosixPath(entry).parts
        if parts[: depth - 1] == prefix and len(parts) > depth and parts[depth - 1] == "train_data":
            if not _is_hidden(parts[depth : depth + 1]) and (entry in dirs or len(parts) > depth + 1):
                found.add(parts[depth])
    return found


def _collect_source(names, dirs, prefix, origin):
    folders = _class_folders(dirs, names, prefix)
    train_dir = "/".join(prefix + ("train_data",))
    if not folders:
        raise UserError(f"{origin}: no class folders in {train_dir}/: {FIX_LAYOUT}")
    bad = sorted(f for f in folders if not f.isdigit())
    if bad:
        raise UserError(f"{origin}: class folder {train_dir}/{bad[0]} is not a number: name class folders 0, 1, 2, ...")
    classes = sorted(int(f) for f in folders)
    missing = sorted(set(range(classes[-1] + 1)) - set(classes))
    if missing:
        raise UserError(f"{origin}: class folder {train_dir}/{missing[0]} is missing: classes must be 0..{classes[-1]}")
    files = {c: [] for c in classes}
    for name, below in _image_members(names, prefix, "train_data"):
        if len(below) == 2:
            files[int(below[0])].append(name)
    for c in classes:
        if not files[c]:
            raise UserError(f"{origin}: class folder {train_dir}/{c} has no images: remove it or add its photos")
        files[c].sort(key=_natural_key)
    return files


def _natural_key(name):
    stem = PurePosixPath(name).stem
    return (0, int(stem), name) if stem.isdigit() else (1, 0, name)


def _collect_target(names, prefix, origin):
    test_dir = "/".join(prefix + ("test_data",))
    by_id = {}
    for name, below in _image_members(names, prefix, "test_data"):
        stem = PurePosixPath(name).stem
        if not stem.isdigit():
            raise UserError(f"{origin}: test image {name} has no numeric id: name test images <id>.bmp")
        image_id = int(stem)
        if image_id in by_id:
            raise UserError(f"{origin}: test images {by_id[image_id]} and {name} share id {image_id}: keep one")
        by_id[image_id] = name
    if not by_id:
        raise UserError(f"{origin}: no test images in {test_dir}/: {FIX_LAYOUT}")
    ids = sorted(by_id)
    return [by_id[i] for i in ids], ids


def _open(path, list_folder, missing_hint):
    """(layout with its prefix set, member names, directory names) of a zip or folder."""
    if not path.exists():
        raise UserError(f"{path} does not exist: {missing_hint}")
    if path.is_dir():
        root, names, dirs = list_folder(path)
        layout = Layout(origin=str(path), _root=root)
    else:
        archive, names, dirs = _list_zip(path)
        layout = Layout(origin=str(path), _zip=archive)
    layout.prefix = _split_prefix(names, layout.origin)
    return layout, names, dirs


def open_layout(data_path) -> Layout:
    """Open a zip or folder, check its layout, and list its images (nothing is decoded yet)."""
    hint = "pass --data path/to/real_or_drawing.zip (or its unzipped folder)"
    if not str(data_path):
        raise UserError(f"no data given: {hint}")
    layout, names, dirs = _open(Path(data_path), _list_folder, hint)
    layout.source_files = _collect_source(names, dirs, layout.prefix, layout.origin)
    layout.target_files, layout.target_ids = _collect_target(names, layout.prefix, layout.origin)
    return layout


def quick_fingerprint(data_path) -> str:
    """Cheap identity of the input (names, sizes, times) used to decide whether to preprocess again."""
    import hashlib

    path = Path(data_path).resolve()
    digest = hashlib.sha256(str(path).encode())
    entries = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for entry in entries:
        stat = entry.stat()
        digest.update(f"{entry}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def open_doodles(data_path) -> Layout:
    """A labelled doodle set for offline evaluation: a zip or folder holding test_data/<any>/<id>.bmp only."""
    hint = "give doodles.zip (or its folder) of a labelled doodle set"
    layout, names, _ = _open(Path(data_path), _list_folder_any, hint)
    layout.target_files, layout.target_ids = _collect_target(names, layout.prefix, layout.origin)
    return layout


def _list_folder_any(path):
    names = [p.relative_to(path).as_posix() for p in Path(path).rglob("*") if p.is_file()]
    return Path(path), names, []
