# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Helpers for ``get_config(arg)`` config files (big_vision style).

``--config configs/x.py:aug=mixup_aligned,views=1,runlocal`` hands the string
after the colon to ``get_config(arg)``; :func:`parse_arg` turns it into typed
fields from the defaults given.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import types

import ml_collections

from dws_jax import prng


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


def split_items(arg: str) -> list[str]:
  """Splits ``arg`` at the commas outside quotes and brackets.

  ``"aug=random_choice(translate,rotate),views=1"`` gives
  ``["aug=random_choice(translate,rotate)", "views=1"]``; a value in single or
  double quotes is taken as written, quotes removed (``"aug='a,b'"`` gives
  ``["aug=a,b"]``).

  Args:
    arg: the string after ``:`` in ``--config file.py:arg``.

  Returns:
    The non-empty items, in order.

  Raises:
    ValueError: an unclosed quote or unbalanced bracket, named with its place.
  """
  closing = {"(": ")", "[": "]", "{": "}"}
  items, current, stack, quote = [], [], [], None
  for pos, char in enumerate(arg):
    if quote:
      if char == quote:
        quote = None
      else:
        current.append(char)
      continue
    if char in "'\"":
      quote = char
    elif char in closing:
      stack.append(closing[char])
      current.append(char)
    elif char in closing.values():
      if not stack or stack.pop() != char:
        raise ValueError(f"config argument {arg!r}: unbalanced {char!r} at "
                         f"position {pos}")
      current.append(char)
    elif char == "," and not stack:
      items.append("".join(current))
      current = []
    else:
      current.append(char)
  if quote:
    raise ValueError(f"config argument {arg!r}: unclosed {quote} quote")
  if stack:
    raise ValueError(f"config argument {arg!r}: missing {stack[-1]!r}")
  items.append("".join(current))
  return [item for item in items if item]


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses ``"k1=v1,k2=v2,flag"`` into a ConfigDict typed like ``defaults``.

  A bare ``flag`` sets a boolean default to True; a bare value that is not a
  known key goes to the first default (``"configs/x.py:128"``). Commas inside
  brackets or quotes belong to the value (:func:`split_items`), so
  ``aug=random_choice(translate,rotate)`` and ``aug='dropout(p=0.1),x'`` pass
  whole. Unknown keys raise ``ValueError`` listing the known ones.

  Args:
    arg: the string after ``:`` in ``--config file.py:arg``, or None.
    **defaults: allowed keys with their default values (which fix the types).

  Returns:
    ConfigDict with every key of ``defaults``.
  """
  result = ml_collections.ConfigDict(dict(defaults))
  if not arg:
    return result
  for i, item in enumerate(split_items(arg)):
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


# Options added to the training config after runs were already written: a
# saved config without one of these keys ran with this value. Flattened keys.
ADDED_DEFAULTS = {"prng_impl": prng.AUTO, "init_mode": "auto"}


def config_diff(previous: dict, current: dict) -> list[str]:
  """The flattened keys where two saved run configs differ.

  A key of :data:`ADDED_DEFAULTS` missing from one side counts as its
  default, so a run written before the option existed still matches a config
  that sets the default explicitly.

  Args:
    previous: the config a workdir holds (nested dicts, as ``config.json``).
    current: the config about to run (nested dicts, :func:`to_dict`).

  Returns:
    Sorted flattened keys whose values differ (empty: the same run).
  """
  old = {**ADDED_DEFAULTS, **flatten(previous)}
  new = {**ADDED_DEFAULTS, **flatten(current)}
  return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def load_sibling(config_file: str, name: str) -> types.ModuleType:
  """The module ``name`` (a ``.py`` file) next to ``config_file``.

  Config files are loaded by path, not as a package, so one shares settings
  with another as ``config_utils.load_sibling(__file__, "_fmnist")``.
  """
  return load_module(pathlib.Path(config_file).with_name(f"{name}.py"))


def load_module(path: str | pathlib.Path) -> types.ModuleType:
  """The Python file ``path`` as a module (not added to ``sys.modules``)."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise FileNotFoundError(f"{path} does not exist")
  spec = importlib.util.spec_from_file_location(
      f"dws_config_{path.parent.name}_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
