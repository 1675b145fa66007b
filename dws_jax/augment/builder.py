# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Builds one batched augmentation from a string or a config.

String syntax (a Python expression, parsed with :mod:`ast`, never evaluated)::

    "translate(0.25)|siren_negation(0.5)"       # '|' applies left to right
    "dropout(p=0.1, rescale=False)"             # keywords
    "translate"                                 # defaults (parentheses optional)
    "random_choice(translate, rotate, scale)"   # one option per sample, uniform
    "prob(0.5, dropout)"  or  "dropout@0.5"     # apply with probability 0.5
    "random_choice(translate|dropout, none)@0.8"
    "none"  or  ""                              # identity

Positional arguments fill the factory's hyperparameters in order (the first
one is the main knob: ``translate(scale)``, ``rotate(degrees)``,
``scale(scale)``, ``gaussian_noise(scale)``, ``dropout(p)``, ``quantile(q_max)``,
``siren_negation(p)``, ``siren_bias(k_max)``, ``label_smoothing(eps)``).
``@`` binds tighter than ``|``: ``a|b@0.5`` is ``a | prob(0.5, b)``. Arguments
are literals: numbers, ``True``/``False``/``None`` and strings.

Config forms: ``None`` (identity); a list or tuple (applied in order, items of
any form); a dict or ``ml_collections.ConfigDict`` with a ``name`` and the
hyperparameters, e.g. ``{"name": "dropout", "p": 0.1}``,
``{"name": "random_choice", "options": [...]}`` or
``{"name": "prob", "p": 0.5, "aug": ...}``.

Semantics: sample augmentations act on each INR with its own key (``jax.vmap``
over ``jax.random.split(key, B)``), label augmentations on each soft label,
batch augmentations (MixUp) on the whole batch. ``random_choice`` and ``prob``
decide per sample; around a batch augmentation they apply it to the batch and
keep, per sample, the chosen result.

Labels: label augmentations and the supervised MixUp variants read or change
labels (:func:`label_augmentations` names them); every other stage, the
label-free self-MixUp variants included, works on ``labels=None``, as a
self-supervised run calls it.

View partners: the self-MixUp variants (:mod:`dws_jax.augment.mixup`) mix each INR
with another fitted view of the same object when the caller passes those
views, ``view_partners`` (leaves ``(B, ...)``, row ``i`` a view of the object
of row ``i``); :attr:`Augmentation.uses_view_partners` says whether a pipeline
takes them.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dws_jax import weight_space as wsp
from dws_jax.augment import registry

Array = jax.Array
BUILTINS = ("none", "identity", "random_choice", "prob")
POOL = "partner_pool"  # marker in Augmentation.kinds: partners from a pool
VIEWS = "view_partners"  # marker in Augmentation.kinds: takes view partners

# -- parsed description -----------------------------------------------------------


def _fmt(value) -> str:
  return repr(value) if isinstance(value, str) else f"{value}"


@dataclasses.dataclass(frozen=True)
class Aug:
  """A registered augmentation with its hyperparameters."""

  name: str
  args: tuple[Any, ...] = ()
  kwargs: tuple[tuple[str, Any], ...] = ()

  def __str__(self):
    parts = [_fmt(a) for a in self.args]
    parts += [f"{k}={_fmt(v)}" for k, v in self.kwargs]
    return f"{self.name}({', '.join(parts)})" if parts else self.name


@dataclasses.dataclass(frozen=True)
class Seq:
  """Augmentations applied in order."""

  items: tuple[Any, ...]

  def __str__(self):
    return "|".join(f"({i})" if isinstance(i, Seq) else str(i)
                    for i in self.items)


@dataclasses.dataclass(frozen=True)
class Choice:
  """One option picked uniformly at random per sample."""

  options: tuple[Any, ...]

  def __str__(self):
    return f"random_choice({', '.join(str(o) for o in self.options)})"


@dataclasses.dataclass(frozen=True)
class Prob:
  """An augmentation applied with probability ``p`` per sample."""

  p: float
  node: Any

  def __str__(self):
    return f"prob({self.p}, {self.node})"


@dataclasses.dataclass(frozen=True)
class Identity:
  """No augmentation."""

  def __str__(self):
    return "none"


Node = Aug | Seq | Choice | Prob | Identity


def _check_p(p, where: str) -> float:
  if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not (
      0.0 <= float(p) <= 1.0):
    raise ValueError(f"{where}: probability must be a number in [0, 1], got {p!r}")
  return float(p)


def _make_choice(options: Sequence[Node], where: str) -> Node:
  if not options:
    raise ValueError(f"{where}: random_choice needs at least one option")
  return Choice(tuple(options))


def parse(desc: Any) -> Node:
  """Parses a string or config (module docstring) into a description tree."""
  if desc is None:
    return Identity()
  if isinstance(desc, (Aug, Seq, Choice, Prob, Identity)):
    return desc
  if isinstance(desc, str):
    return _parse_string(desc)
  if hasattr(desc, "to_dict") and callable(desc.to_dict):  # ConfigDict
    desc = desc.to_dict()
  if isinstance(desc, Mapping):
    return _parse_mapping(desc)
  if isinstance(desc, (list, tuple)):
    return _seq([parse(d) for d in desc])
  raise TypeError(f"cannot build an augmentation from {type(desc).__name__}: "
                  "expected a string, list, dict/ConfigDict or None")


def _seq(items: Sequence[Node]) -> Node:
  flat = []
  for item in items:
    if isinstance(item, Seq):
      flat.extend(item.items)
    elif not isinstance(item, Identity):
      flat.append(item)
  if not flat:
    return Identity()
  return flat[0] if len(flat) == 1 else Seq(tuple(flat))


def _parse_mapping(desc: Mapping[str, Any]) -> Node:
  desc = dict(desc)
  if "name" not in desc:
    raise ValueError(f"augmentation config {desc!r} has no 'name' key; expected "
                     "e.g. {'name': 'dropout', 'p': 0.1}")
  name = desc.pop("name")
  if name in ("none", "identity"):
    if desc:
      raise ValueError(f"{name} takes no hyperparameters, got {sorted(desc)}")
    return Identity()
  if name == "random_choice":
    extra = set(desc) - {"options"}
    if extra:
      raise ValueError(f"random_choice config takes only 'options', got "
                       f"{sorted(extra)}")
    return _make_choice([parse(o) for o in desc.get("options", ())],
                        "random_choice config")
  if name == "prob":
    extra = set(desc) - {"p", "aug"}
    if extra or "p" not in desc or "aug" not in desc:
      raise ValueError(f"prob config needs exactly 'p' and 'aug', got {sorted(desc)}")
    return Prob(_check_p(desc["p"], "prob config"), parse(desc["aug"]))
  return Aug(str(name), (), tuple(sorted(desc.items())))


def _parse_string(text: str) -> Node:
  if not text.strip():
    return Identity()
  try:
    tree = ast.parse(text.strip(), mode="eval")
  except SyntaxError as e:
    raise ValueError(f"cannot parse augmentation {text!r}: {e.msg} at column "
                     f"{e.offset}") from None
  return _from_ast(tree.body, text)


def _literal(node: ast.AST, text: str):
  try:
    value = ast.literal_eval(node)
  except ValueError:
    raise ValueError(f"in augmentation {text!r}: hyperparameter "
                     f"{ast.get_source_segment(text.strip(), node)!r} is not a "
                     "literal (number, True/False/None or string)") from None
  return value


def _from_ast(node: ast.AST, text: str) -> Node:
  src = lambda n: ast.get_source_segment(text.strip(), n)
  if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
    return _seq([_from_ast(node.left, text), _from_ast(node.right, text)])
  if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
    p = _check_p(_literal(node.right, text), f"in augmentation {text!r}, "
                 f"{src(node)!r}")
    return Prob(p, _from_ast(node.left, text))
  if isinstance(node, ast.Name):
    if node.id in ("none", "identity"):
      return Identity()
    if node.id in ("random_choice", "prob"):
      raise ValueError(f"in augmentation {text!r}: {node.id} needs arguments, "
                       f"e.g. random_choice(translate, rotate) or prob(0.5, dropout)")
    return Aug(node.id)
  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
    name = node.func.id
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords):
      raise ValueError(f"in augmentation {text!r}: * and ** are not supported")
    if name == "random_choice":
      if node.keywords:
        raise ValueError(f"in augmentation {text!r}: random_choice takes only "
                         "augmentations as arguments")
      return _make_choice([_from_ast(a, text) for a in node.args],
                          f"in augmentation {text!r}")
    if name == "prob":
      kw = {k.arg: k.value for k in node.keywords}
      args = list(node.args)
      fields = ["p", "aug"]
      if len(args) > 2 or set(kw) - set(fields) or (
          set(kw) & set(fields[:len(args)])):
        raise ValueError(f"in augmentation {text!r}: use prob(p, aug)")
      values = dict(zip(fields, args)) | kw
      if set(values) != set(fields):
        raise ValueError(f"in augmentation {text!r}: use prob(p, aug)")
      return Prob(_check_p(_literal(values["p"], text), f"in {text!r}"),
                  _from_ast(values["aug"], text))
    if name in ("none", "identity"):
      if node.args or node.keywords:
        raise ValueError(f"in augmentation {text!r}: {name} takes no arguments")
      return Identity()
    args = tuple(_literal(a, text) for a in node.args)
    kwargs = tuple((k.arg, _literal(k.value, text)) for k in node.keywords)
    return Aug(name, args, kwargs)
  raise ValueError(f"cannot parse augmentation {text!r}: unexpected "
                   f"{src(node)!r}; expected name(args), a|b, aug@p, "
                   "random_choice(...) or prob(p, aug)")


# -- compiled pipeline ----------------------------------------------------------------

# Per-sample: fn(key, ws, y) -> (ws, y) on one INR and its soft label (C,) or None.
# Batched: fn(key, ws_batch, labels, extras) -> (ws_batch, labels) on (B, ...),
# (B, C); extras are the call-time partners (_Extras).


class _Extras(NamedTuple):
  """Call-time partners: MixUp's ``partner_pool`` and self-MixUp's views."""

  partner_pool: Any = None
  view_partners: Any = None


class _PerSample(NamedTuple):
  fn: Callable


class _Batched(NamedTuple):
  fn: Callable


def _batch_size(ws_batch: wsp.WeightSpace) -> int:
  return ws_batch.batch_shape[0]


def _to_batched(stage: _PerSample | _Batched) -> _Batched:
  if isinstance(stage, _Batched):
    return stage
  fn = stage.fn

  def batched(key, ws_batch, labels, extras):
    del extras  # per-sample stages draw no partners
    keys = jax.random.split(key, _batch_size(ws_batch))
    return jax.vmap(fn)(keys, ws_batch, labels)

  return _Batched(batched)


def _select(mask: Array, on_true, on_false):
  """Per-sample ``where`` over pytrees with leading batch dim ``B``."""
  def pick(a, b):
    return jnp.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)
  return jax.tree.map(pick, on_true, on_false)


def _instantiate(entry: registry.Entry, node: Aug, spec: wsp.WeightSpaceSpec,
                 num_classes: int | None) -> Callable:
  """Binds hyperparameters to a factory, with clear errors."""
  params = list(inspect.signature(entry.factory).parameters.values())[1:]
  has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
  named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
           and p.name != "num_classes"]
  positional = [p.name for p in named
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  accepted = [p.name for p in named]
  if len(node.args) > len(positional):
    raise ValueError(
        f"{node.name} takes at most {len(positional)} positional hyperparameters "
        f"({', '.join(positional) or 'none'}), got {len(node.args)}: {node}")
  hparams = dict(zip(positional, node.args))
  for key, value in node.kwargs:
    if key in hparams:
      raise ValueError(f"{node.name}: hyperparameter {key!r} given twice in {node}")
    if key not in accepted and not has_var_kw:
      raise ValueError(f"{node.name}: unknown hyperparameter {key!r}; accepted: "
                       f"{', '.join(accepted) or 'none'}")
    hparams[key] = value
  if entry.kind == "label":
    if num_classes is None:
      raise ValueError(f"{node.name} is a label augmentation: pass num_classes "
                       "to augment.build(...)")
    hparams["num_classes"] = num_classes
  return entry.factory(spec, **hparams)


def _compile(node: Node, spec, num_classes, kinds: set[str]):
  """Description tree -> _PerSample or _Batched; collects kinds used.

  ``kinds`` also receives ``POOL`` when a stage draws MixUp partners from a
  partner pool.
  """
  if isinstance(node, Identity):
    return _PerSample(lambda key, ws, y: (ws, y))

  if isinstance(node, Aug):
    if node.name in BUILTINS:
      raise ValueError(f"{node.name} cannot take hyperparameters this way")
    entry = registry.get_entry(node.name)
    kinds.add(entry.kind)
    fn = _instantiate(entry, node, spec, num_classes)
    if entry.kind == "sample":
      return _PerSample(lambda key, ws, y: (fn(key, ws), y))
    if entry.kind == "label":
      def label_fn(key, ws, y, _fn=fn, _name=node.name):
        if y is None:
          raise ValueError(f"{_name} changes labels: call the augmentation with "
                           "soft labels (B, C)")
        return ws, _fn(key, y)
      return _PerSample(label_fn)
    # Set by the MixUp factories: True for reference_compat=True.
    if getattr(fn, "needs_partner_pool", False):
      kinds.add(POOL)
      return _Batched(lambda key, ws, y, extras, _fn=fn: _fn(
          key, ws, y, partner_pool=extras.partner_pool))
    # Set by the self-MixUp factories (partners: other views of the objects).
    if getattr(fn, "takes_view_partners", False):
      kinds.add(VIEWS)
      return _Batched(lambda key, ws, y, extras, _fn=fn: _fn(
          key, ws, y, view_partners=extras.view_partners))
    return _Batched(lambda key, ws, y, extras, _fn=fn: _fn(key, ws, y))

  if isinstance(node, Seq):
    stages = [_compile(item, spec, num_classes, kinds) for item in node.items]
    if all(isinstance(s, _PerSample) for s in stages):
      return _compile_fused(stages)
    # Fuse consecutive per-sample stages into one vmapped pass.
    groups: list[Any] = []
    for s in stages:
      if isinstance(s, _PerSample) and groups and isinstance(groups[-1], list):
        groups[-1].append(s)
      else:
        groups.append([s] if isinstance(s, _PerSample) else s)
    batched = []
    for g in groups:
      if isinstance(g, list):
        inner = g[0] if len(g) == 1 else _compile_fused(g)
        batched.append(_to_batched(inner).fn)
      else:
        batched.append(g.fn)

    def sequence(key, ws_batch, labels, extras):
      for k, f in zip(jax.random.split(key, len(batched)), batched):
        ws_batch, labels = f(k, ws_batch, labels, extras)
      return ws_batch, labels

    return _Batched(sequence)

  if isinstance(node, Choice):
    options = [_compile(o, spec, num_classes, kinds) for o in node.options]
    n = len(options)
    if n == 1:
      return options[0]
    if all(isinstance(o, _PerSample) for o in options):
      fns = [o.fn for o in options]

      def choice(key, ws, y):
        k_idx, k_aug = jax.random.split(key)
        idx = jax.random.randint(k_idx, (), 0, n)
        return jax.lax.switch(idx, fns, k_aug, ws, y)

      return _PerSample(choice)
    bfns = [_to_batched(o).fn for o in options]

    def batched_choice(key, ws_batch, labels, extras):
      k_idx, *k_opts = jax.random.split(key, n + 1)
      idx = jax.random.randint(k_idx, (_batch_size(ws_batch),), 0, n)
      out = bfns[0](k_opts[0], ws_batch, labels, extras)
      for i in range(1, n):
        out = _select(idx == i, bfns[i](k_opts[i], ws_batch, labels, extras),
                      out)
      return out

    return _Batched(batched_choice)

  if isinstance(node, Prob):
    inner = _compile(node.node, spec, num_classes, kinds)
    p = node.p
    if isinstance(inner, _PerSample):
      fn = inner.fn

      def maybe(key, ws, y):
        k_p, k_aug = jax.random.split(key)
        return jax.lax.cond(jax.random.bernoulli(k_p, p), fn,
                            lambda k, w, l: (w, l), k_aug, ws, y)

      return _PerSample(maybe)
    bfn = inner.fn

    def batched_maybe(key, ws_batch, labels, extras):
      k_p, k_aug = jax.random.split(key)
      mask = jax.random.bernoulli(k_p, p, (_batch_size(ws_batch),))
      return _select(mask, bfn(k_aug, ws_batch, labels, extras),
                     (ws_batch, labels))

    return _Batched(batched_maybe)

  raise TypeError(f"unknown description node {node!r}")


def _compile_fused(stages: Sequence[_PerSample]) -> _PerSample:
  fns = [s.fn for s in stages]

  def per_sample(key, ws, y):
    for k, f in zip(jax.random.split(key, len(fns)), fns):
      ws, y = f(k, ws, y)
    return ws, y

  return _PerSample(per_sample)


@dataclasses.dataclass(frozen=True, eq=False)
class Augmentation:
  """A built augmentation pipeline; call it inside the jitted train step.

  ``aug(key, ws_batch, labels=None) -> (ws_batch, labels)``:

  Args (of the call):
    key: PRNG key (e.g. ``fold_in(step_key, step)``).
    ws_batch: WeightSpace of ``spec`` with one batch dim ``B`` (may be sharded).
    labels: soft labels ``(B, C)`` (integer arrays are cast to float32), or
      ``None`` when no stage uses labels (:attr:`label_augs` is empty).
    partner_pool: MixUp's pool, only when :attr:`needs_partner_pool`.
    view_partners: only when :attr:`uses_view_partners`: a batch like
      ``ws_batch`` whose row ``i`` is another fitted view of the object of row
      ``i``, the self-MixUp partners; without it self-MixUp mixes each INR
      with an augmented copy of itself.

  Returns:
    ``(ws_batch, labels)`` with the same shapes.

  Attributes:
    description: the parsed pipeline (``str()`` gives the canonical string).
    spec: the weight-space spec it was built for.
    num_classes: ``C`` if given to :func:`build`.
    kinds: kinds of the registered augmentations used, plus ``POOL`` when a
      MixUp stage draws partners from a pool (``reference_compat=True``) and
      ``VIEWS`` when a self-MixUp stage takes view partners.
    label_augs: names of the stages that read or change labels
      (:func:`label_augmentations`).
  """

  description: Node
  spec: wsp.WeightSpaceSpec
  num_classes: int | None
  kinds: frozenset[str]
  _fn: Callable = dataclasses.field(repr=False)
  label_augs: tuple[str, ...] = ()

  @property
  def is_identity(self) -> bool:
    return isinstance(self.description, Identity)

  @property
  def needs_partner_pool(self) -> bool:
    """True when a MixUp stage has ``reference_compat=True``: call with
    ``partner_pool=(ws_pool (P, ...), labels_pool (P, C))``."""
    return POOL in self.kinds

  @property
  def uses_view_partners(self) -> bool:
    """True when a self-MixUp stage mixes with other views of the objects:
    call with ``view_partners`` (a batch like ``ws_batch``) where they exist."""
    return VIEWS in self.kinds

  def __call__(self, key: Array, ws_batch: wsp.WeightSpace,
               labels: Array | None = None, partner_pool=None,
               view_partners: wsp.WeightSpace | None = None):
    # A pool-drawing stage refuses a missing pool itself (mixup.py).
    if not self.needs_partner_pool and partner_pool is not None:
      raise ValueError(f"augmentation {self} takes no partner_pool (only MixUp "
                       "with reference_compat=True draws from one)")
    if not self.uses_view_partners and view_partners is not None:
      raise ValueError(f"augmentation {self} takes no view_partners (only "
                       "self-MixUp mixes with other views of the objects)")
    self.spec.validate(ws_batch, batch_ndim=1, name="augmentation input ws_batch")
    batch = ws_batch.batch_shape[0]
    if view_partners is not None:
      self.spec.validate(view_partners, batch_ndim=1,
                         name="augmentation input view_partners")
      if view_partners.batch_shape != ws_batch.batch_shape:
        raise ValueError(f"view_partners have batch {view_partners.batch_shape}"
                         f", ws_batch has {ws_batch.batch_shape}")
    if labels is not None:
      labels = jnp.asarray(labels)
      if labels.ndim != 2 or labels.shape[0] != batch:
        raise ValueError(f"labels must be soft labels (B={batch}, C), got shape "
                         f"{labels.shape}")
      if self.num_classes is not None and labels.shape[1] != self.num_classes:
        raise ValueError(f"labels have {labels.shape[1]} classes, the augmentation "
                         f"was built with num_classes={self.num_classes}")
      if not jnp.issubdtype(labels.dtype, jnp.floating):
        labels = labels.astype(jnp.float32)
    elif self.label_augs:
      raise ValueError(f"augmentation {self} changes labels: pass soft labels "
                       "(B, C)")
    if self.is_identity:
      return ws_batch, labels
    return self._fn(key, ws_batch, labels, _Extras(partner_pool, view_partners))

  def __str__(self):
    return str(self.description)


def build(desc: Any, spec: wsp.WeightSpaceSpec, *,
          num_classes: int | None = None) -> Augmentation:
  """Builds a batched augmentation from a string or config.

  Hyperparameters are checked here, so a bad config fails before training.

  Example:
    >>> aug = build("translate(0.25)|siren_negation(0.5)", spec)
    >>> ws_batch, labels = jax.jit(aug)(key, ws_batch, labels)

  Args:
    desc: string, list, dict/ConfigDict or ``None`` (module docstring).
    spec: the weight-space spec of the INRs.
    num_classes: number of classes, required for label augmentations.

  Returns:
    An :class:`Augmentation`: ``aug(key, ws_batch, labels) -> (ws_batch,
    labels)``, pure and jittable.
  """
  if not isinstance(spec, wsp.WeightSpaceSpec):
    raise TypeError(f"build() needs a WeightSpaceSpec, got {type(spec).__name__}")
  node = parse(desc)
  kinds: set[str] = set()
  compiled = _compile(node, spec, num_classes, kinds)
  return Augmentation(node, spec, num_classes, frozenset(kinds),
                      _to_batched(compiled).fn,
                      label_augs=label_augmentations(node))


def _aug_names(node: Node) -> list[str]:
  """Names of the registered augmentations in a description tree, in order."""
  if isinstance(node, Aug):
    return [node.name]
  if isinstance(node, Seq):
    return [n for item in node.items for n in _aug_names(item)]
  if isinstance(node, Choice):
    return [n for option in node.options for n in _aug_names(option)]
  if isinstance(node, Prob):
    return _aug_names(node.node)
  return []


def label_augmentations(desc: Any) -> tuple[str, ...]:
  """Names in ``desc`` of the augmentations that read or change labels.

  Label augmentations (``label_smoothing``) and the supervised MixUp variants
  (``mixup``, ``mixup_perm``, ``mixup_aligned``, ``combine``, ...): what a
  self-supervised run, which has no labels, cannot use.

  Args:
    desc: a string or config (module docstring) or a parsed description.

  Returns:
    The names, each once, in the order they appear.
  """
  names = _aug_names(parse(desc))
  return tuple(dict.fromkeys(
      n for n in names
      if n not in BUILTINS and registry.get_entry(n).uses_labels))


def apply_batch(aug: Callable[[Array, wsp.WeightSpace], wsp.WeightSpace],
                key: Array, ws_batch: wsp.WeightSpace) -> wsp.WeightSpace:
  """Applies a per-sample augmentation to a batch, one key per sample.

  ``jax.vmap(aug)(jax.random.split(key, B), ws_batch)``; jittable, and works on
  a batch sharded over devices along ``B``.

  Args:
    aug: ``aug(key, ws) -> ws`` on one unbatched weight space.
    key: PRNG key.
    ws_batch: WeightSpace with leaves ``(B, ...)``.

  Returns:
    The augmented batch, same shapes.
  """
  wsp.validate_structure(ws_batch, name="apply_batch(ws_batch)")
  if len(ws_batch.batch_shape) != 1:
    raise ValueError(f"apply_batch() needs one batch dim, got batch shape "
                     f"{ws_batch.batch_shape}")
  keys = jax.random.split(key, ws_batch.batch_shape[0])
  return jax.vmap(aug)(keys, ws_batch)
