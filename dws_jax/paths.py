# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Local paths and URIs (``gs://bucket/dir``) alike, through ``etils.epath``.

Workdirs, checkpoint directories, INR dataset directories, metric files and
the tables' cell directories may be local paths or URIs of any scheme that
``etils.epath`` handles (``gs://``, ``s3://``, ``az://``, ``hf://`` and those
registered with ``epath.register_path_cls``; ``gs://`` needs ``gcsfs`` or
TensorFlow installed). Local paths are used exactly as given.

Atomic replacement (:func:`write_atomic`): on a local disk a temporary file
beside the target is renamed over it (``os.replace``), optionally after an
fsync of the file and its directory. Object stores have no rename, but they
publish an uploaded object whole when its upload finishes (readers see the old
object or the new one, never part of one), so at a URI the target is written
directly.
"""

from __future__ import annotations

import io
import os
from typing import Any, Union

from etils import epath

PathLike = Union[str, os.PathLike]

_KNOWN_SCHEMES = "gs://, s3://, az://, hf://"


def is_uri(path: PathLike) -> bool:
  """True for ``scheme://...`` (remote) paths, False for local ones."""
  return "://" in os.fspath(path)


def scheme(path: PathLike) -> str | None:
  """``"gs"`` for ``gs://b/x``; None for a local path."""
  text = os.fspath(path)
  return text.split("://", 1)[0] if "://" in text else None


def as_path(path: PathLike) -> epath.Path:
  """``path`` as an ``epath.Path``; a local path is kept as given.

  Raises:
    ValueError: ``path`` is a URI whose scheme ``etils.epath`` does not handle
      (the message names the scheme and the ones it handles).
  """
  if isinstance(path, epath.Path):
    return path
  try:
    return epath.Path(path)
  except KeyError:
    raise ValueError(
        f"unsupported URI scheme {scheme(path)}:// in {os.fspath(path)!r}: "
        f"a path must be local or use a scheme of etils.epath "
        f"({_KNOWN_SCHEMES}, or one registered with "
        "epath.register_path_cls)") from None


def resolve(path: PathLike) -> epath.Path:
  """An absolute ``epath.Path``: a local path made absolute, a URI as it is.

  ``os.path.abspath("gs://b/x")`` would be the local ``$PWD/gs:/b/x``, so
  URIs are never passed to it.
  """
  if is_uri(path):
    return as_path(path)
  return epath.Path(os.path.abspath(os.fspath(path)))


def write_atomic(path: PathLike, data: bytes | str, *, fsync: bool = False
                 ) -> None:
  """Replaces ``path`` by ``data`` so that no reader sees a partial file.

  Args:
    path: the file (local path or URI).
    data: its new contents (``str`` is written as UTF-8).
    fsync: for a local path, fsync the file before the rename and its
      directory after it (durable across a power loss, not only a crash).
  """
  raw = data.encode() if isinstance(data, str) else data
  if is_uri(path):
    as_path(path).write_bytes(raw)
    return
  path = os.fspath(path)
  directory, name = os.path.split(path)
  tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}")
  with open(tmp, "wb") as f:
    f.write(raw)
    if fsync:
      f.flush()
      os.fsync(f.fileno())
  os.replace(tmp, path)
  if fsync:
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
      os.fsync(fd)
    finally:
      os.close(fd)


def save_figure(fig: Any, path: PathLike, **kwargs) -> None:
  """``fig.savefig`` to a local path or, through a PNG buffer, a URI."""
  if not is_uri(path):
    fig.savefig(os.fspath(path), **kwargs)
    return
  buf = io.BytesIO()
  fig.savefig(buf, format=os.path.splitext(os.fspath(path))[1][1:] or "png",
              **kwargs)
  as_path(path).write_bytes(buf.getvalue())


def copy_tree(src: PathLike, dst: PathLike, last: str | None = None) -> None:
  """Copies the files under ``src`` into ``dst`` (either may be a URI).

  Args:
    src: a directory.
    dst: where its files go (created; existing files are overwritten).
    last: a file name copied after every other file, so that its presence in
      ``dst`` means the copy is complete.
  """
  src, dst = as_path(src), as_path(dst)
  files = []
  for root, _, names in src.walk():
    rel = as_path(root).relative_to(src)
    files.extend(rel / n for n in names)
  files.sort(key=lambda rel: (rel.name == last, str(rel)))
  made = set()
  for rel in files:
    target = dst / rel
    if target.parent not in made:
      target.parent.mkdir(parents=True, exist_ok=True)
      made.add(target.parent)
    (src / rel).copy(target, overwrite=True)
