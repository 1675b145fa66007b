# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Helpers for ``get_config(arg)`` config files (big_vision style).

``--config configs/x.py:aug=mixup_aligned,views=1,runlocal`` hands the string
after the colon to ``get_config(arg)``; :func:`parse_arg` turns it into typed
fields from the defaults given.
"""

from __future__ import annotations

import json

import ml_collections


def _convert(name: str, value: str, default):
  if isinstance(default, bool):
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "y", "t", ""):
      return True
    if lowered in ("0", "false", "no", "n", "f"):
      return False
    raise ValueError(f"config argument {name}={value!r} is not a boolean")
  if default is None or isinstance(default, str):
    return value
  try:
    return type(default)(value)
  except ValueError as e:
    raise ValueError(f"config argument {name}={value!r} is not a "
                     f"{type(default).__name__}") from e


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses ``"k1=v1,k2=v2,flag"`` into a ConfigDict typed like ``defaults``.

  A bare ``flag`` sets a boolean default to True; a bare value that is not a
  known key goes to the first default (``"configs/x.py:128"``). Values that
  contain commas are not supported. Unknown keys raise ``ValueError`` listing
  the known ones.

  Args:
    arg: the string after ``:`` in ``--config file.py:arg``, or None.
    **defaults: allowed keys with their default values (which fix the types).

  Returns:
    ConfigDict with every key of ``defaults``.
  """
  result = ml_collections.ConfigDict(dict(defaults))
  if not arg:
    return result
  for i, item in enumerate(part for part in arg.split(",") if part):
    if "=" in item:
      key, value = item.split("=", 1)
    elif item in defaults and isinstance(defaults[item], bool):
      key, value = item, "true"
    elif i == 0 and defaults:
      key, value = next(iter(defaults)), item
    else:
      raise ValueError(f"config argument {item!r} is not key=value; known keys: "
                       f"{', '.join(defaults)}")
    key = key.strip()
    if key not in defaults:
      raise ValueError(f"unknown config argument {key!r}; known keys: "
                       f"{', '.join(defaults)}")
    result[key] = _convert(key, value.strip(), defaults[key])
  return result


def to_dict(config) -> dict:
  """A ConfigDict (or plain mapping) as JSON-compatible nested dicts."""
  if isinstance(config, ml_collections.ConfigDict):
    return json.loads(config.to_json_best_effort(sort_keys=True))
  return json.loads(json.dumps(config, sort_keys=True))


def flatten(d: dict, prefix: str = "") -> dict:
  """``{"a": {"b": 1}} -> {"a.b": 1}``."""
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out
