# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Registry of kernel implementations that the models' hot spots can use.

A model names its implementation with the attribute ``kernels`` (a string,
part of the module, so ``jax.jit`` sees it). ``"xla"`` is the plain XLA code
of the model modules and is always available; plugins register others, e.g.
the XLA:CPU plugin (:mod:`dws_jax.xla_cpu`) registers ``"xla_cpu"``, fused
FFI kernels. :func:`dws_jax.models.get` turns ``"auto"`` into a concrete name
(:func:`resolve`) when it builds the model.

Ops (:data:`OPS`) and the arguments a registered ``fn`` receives:

* ``"set_attention"``: ``fn(qs, ks, vs)``, per member (SAB) arrays
  ``(B, n, heads_i, d)`` (queries already scaled) -> per member
  ``softmax(q k^T) v`` ``(B, n, heads_i, d)``
  (:func:`dws_jax.models.layers.multi_sab_attention`).
* ``"relational_attention"``: ``fn(q_n, k_n, v_n, edges, w_edge, w_v, scale)``
  -> ``(B, N, H, dh)``
  (:func:`dws_jax.models.relational_transformer.xla_relational_attention`).
* ``"edge_mlp"``: ``fn(edges, s, t, params, masks)`` -> ``(B, N, N, C)``
  (:func:`dws_jax.models.relational_transformer.xla_edge_mlp`).
* ``"materialize"``: ``fn(xs)`` -> ``xs`` unchanged, each computed once
  (the XLA version is the identity).

A registered ``fn`` returns its result, or ``None`` where it does not take
the given shapes, dtypes or backend; the caller then runs the XLA version.
The core never imports a plugin: see :mod:`dws_jax.plugins`.
"""

from __future__ import annotations

from typing import Any, Callable

import jax

OPS = ("set_attention", "relational_attention", "edge_mlp", "materialize")
XLA = "xla"
AUTO = "auto"
PLUGIN_HINT = ("; 'xla_cpu' needs the XLA:CPU plugin (dws_jax.plugins.load() "
               "or dws_jax.xla_cpu.register())")

# impl name -> op -> fn.
_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}
# Backend -> the implementation "auto" picks there (as dws_jax.prng does).
_PREFERRED: dict[str, str] = {}


def register(impl_name: str, op: str, fn: Callable[..., Any],
             preferred_on: tuple[str, ...] = ()) -> None:
  """Makes ``kernels=impl_name`` run ``fn`` for ``op`` (see module doc).

  Args:
    impl_name: the attribute value.
    op: one of :data:`OPS`.
    fn: the kernel (returns ``None`` where it declines the arguments).
    preferred_on: backends (``jax.default_backend()`` names) where
      ``"auto"`` picks ``impl_name``.

  Raises:
    ValueError: unknown ``op``, or ``impl_name`` is ``"xla"`` or ``"auto"``.
  """
  if op not in OPS:
    raise ValueError(f"unknown kernel op {op!r}; expected one of {OPS}")
  if impl_name in (XLA, AUTO):
    raise ValueError(f"kernels {impl_name!r} is built in and cannot be "
                     "registered")
  _REGISTRY.setdefault(impl_name, {})[op] = fn
  for backend in preferred_on:
    _PREFERRED[backend] = impl_name


def known() -> tuple[str, ...]:
  """``"xla"``, then the registered implementation names."""
  return (XLA,) + tuple(sorted(_REGISTRY))


def resolve(name: str) -> str:
  """The concrete implementation that ``kernels=name`` selects.

  Args:
    name: ``"auto"`` or a name of :func:`known`.

  Returns:
    ``name`` itself, or for ``"auto"``: the registered implementation
    preferred on the default backend (``"xla_cpu"`` on CPU with the XLA:CPU
    plugin), else ``"xla"``.

  Raises:
    ValueError: an unknown name (the message lists the known ones).
  """
  if name == AUTO:
    preferred = _PREFERRED.get(jax.default_backend())
    return preferred if preferred in _REGISTRY else XLA
  if name == XLA or name in _REGISTRY:
    return name
  hint = "" if "xla_cpu" in _REGISTRY else PLUGIN_HINT
  raise ValueError(f"unknown kernels {name!r}; expected 'auto' or one of "
                   f"{known()}{hint}")


def call(impl_name: str, op: str, *args, **kwargs) -> Any | None:
  """``op`` by implementation ``impl_name``, or ``None`` for the XLA path.

  ``None`` when ``impl_name`` resolves to ``"xla"``, registers no ``fn`` for
  ``op``, or its ``fn`` declines the arguments.

  Raises:
    ValueError: unknown ``impl_name`` or ``op``.
  """
  if op not in OPS:
    raise ValueError(f"unknown kernel op {op!r}; expected one of {OPS}")
  impl_name = resolve(impl_name)
  fn = _REGISTRY.get(impl_name, {}).get(op)
  if fn is None:
    return None
  return fn(*args, **kwargs)


def unregister(impl_name: str) -> None:
  """Forgets every op of ``impl_name`` (no error if it is not registered)."""
  _REGISTRY.pop(impl_name, None)
