"""A TF function for calls that take the same input shapes every time: the
batched actors' one network call per step.

`tf.function` canonicalises its nested inputs and looks its trace up from
them on every call. A batched actor calls its network with the same shapes
on every step, so `FixedShapeFunction` traces one concrete function of the
flat inputs per input signature and, on each call, hands it the flat arrays:
on the MiniGrid R2D2 actor's call (32 environments) about 150 of 650 us
(docs/results.md, "The actors' network call").
"""

from typing import Any, Callable, Dict, Tuple

import tensorflow as tf
import tree

_Signature = Tuple[Tuple[Tuple[int, ...], Any], ...]


def _signature(flat) -> _Signature:
  return tuple((tuple(x.shape), x.dtype) for x in flat)


class FixedShapeFunction:
  """`fn` (nested arrays or tensors in, a nest of tensors out) compiled as a
  TF graph; each new input signature (the flat inputs' shapes and dtypes) is
  traced once. Calls pass the same nest structure every time (an actor's
  observations and states): only the flat signature is looked up. The
  variables `fn` reads are captured by reference, so weights assigned later
  (a VariableClient's fetch) are used."""

  def __init__(self, fn: Callable[..., Any]):
    self._fn = fn
    self._traces: Dict[_Signature, Tuple[Callable[..., Any], Any]] = {}

  def __call__(self, *args):
    flat = tree.flatten(args)
    trace = self._traces.get(_signature(flat))
    if trace is None:
      trace = self._trace(args, flat)
    concrete, output_structure = trace
    return tree.unflatten_as(output_structure, concrete(*flat))

  def _trace(self, args, flat) -> Tuple[Callable[..., Any], Any]:
    outputs = []

    def flat_fn(*flat_args):
      result = self._fn(*tree.unflatten_as(args, list(flat_args)))
      outputs.append(tree.map_structure(lambda _: None, result))
      return tree.flatten(result)

    specs = [tf.TensorSpec(shape, tf.as_dtype(dtype))
             for shape, dtype in _signature(flat)]
    concrete = tf.function(flat_fn).get_concrete_function(*specs)
    trace = (concrete, outputs[-1])
    self._traces[_signature(flat)] = trace
    return trace
