"""Recurrent dueling Q-networks (R2D2 / Agent57 style).

Observation, one-hot previous action and previous reward are embedded together
(Acme's OAREmbedding), fed through an LSTM and a dueling head. The number of
outputs is a parameter: |A| for R2D2, |A|+1 when Behavior Transfer adds the
extra action a+. The previous action is always a primitive action in A, so the
one-hot input has |A| entries whichever the number of outputs.

A network computes in float32 by default. Actors may act with a bfloat16 copy
(`dtype='bfloat16'`), which is faster on CPUs with bfloat16 units (AMX): it
takes and returns float32 values and states, so replay and the learner see
float32 whatever the actors compute in.
"""

import functools
from typing import Optional, Sequence, Tuple, Union

from acme.tf.networks import atari as acme_atari
from acme.tf.networks import duelling
from acme.tf.networks import embedding
from acme.wrappers import observation_action_reward
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer import tf_runtime

# MiniGrid's image channels hold an object index (<= 10), a colour (<= 5) and
# a door state (<= 2); dividing by these keeps inputs in [0, 1].
_MINIGRID_CHANNEL_SCALE = (10., 5., 2.)


# The dtypes a Q-network computes in (`RecurrentQNetwork`'s `dtype`).
DTYPES = ('float32', 'bfloat16')
DType = Union[str, tf.dtypes.DType]


def check_dtype(dtype: DType) -> tf.dtypes.DType:
  """`dtype` as a TF dtype if a Q-network can compute in it here; otherwise
  says why not."""
  name = dtype if isinstance(dtype, str) else dtype.name
  if name not in DTYPES:
    raise ValueError(f'A Q-network cannot compute in {name!r}; valid: '
                     f'{", ".join(DTYPES)}.')
  if name == 'bfloat16' and not tf_runtime.onednn_enabled():
    # Without oneDNN, TF 2.8's CPU Conv2D in bfloat16 returns float32
    # eagerly and no output in a graph.
    raise ValueError(
        'A bfloat16 Q-network needs oneDNN\'s CPU kernels, and '
        f'{tf_runtime.ONEDNN_VARIABLE} turns them off; unset it or act in '
        'float32.')
  if name == 'bfloat16' and not cpu_computes_bfloat16():
    raise ValueError(
        'A bfloat16 Q-network needs a CPU with AVX512: TensorFlow 2.8\'s '
        'oneDNN kernels compute in bfloat16 only there, and this machine\'s '
        'CPU has none. Act in float32 here (--acting_dtype=float32).')
  return tf.as_dtype(name)


@functools.lru_cache(maxsize=None)
def cpu_computes_bfloat16() -> bool:
  """Whether a bfloat16 convolution computes in bfloat16 on this machine.
  TF 2.8's oneDNN kernels do only with AVX512; elsewhere they log that they
  fall back, and the fallback returns float32 eagerly and fails in a graph."""
  with tf.init_scope():  # Eagerly, also when asked while tracing.
    one = tf.ones([1, 1, 1, 1], tf.bfloat16)
    return tf.nn.conv2d(one, one, 1, 'VALID').dtype == tf.bfloat16


# (output channels, kernel size, stride) of a conv layer.
ConvLayer = Tuple[int, int, int]
AGENT57_CONVS: Tuple[ConvLayer, ...] = ((32, 8, 4), (64, 4, 2), (64, 3, 1))


class AtariTorso(snt.Module):
  """Agent57 torso: conv 32 8x8/4, 64 4x4/2, 64 3x3/1, then linear 512.

  `convs` and `hidden_size` shrink it (same shape, fewer channels) for the
  tiny preset that tests and smoke runs use.
  """

  def __init__(self, hidden_size: int = 512, rescale: bool = True,
               convs: Sequence[ConvLayer] = AGENT57_CONVS,
               dtype: DType = tf.float32,
               name: str = 'atari_torso'):
    """`rescale=False` for inputs already normalised (RND's whitened frames);
    `dtype` is what the layers compute in."""
    super().__init__(name=name)
    self._dtype = check_dtype(dtype)
    if tuple(convs) == AGENT57_CONVS:
      self._convs = acme_atari.AtariTorso()
    else:
      layers = []
      for channels, kernel, stride in convs:
        layers += [snt.Conv2D(channels, kernel, stride, padding='VALID'),
                   tf.nn.relu]
      self._convs = snt.Sequential(layers + [snt.Flatten()])
    self._linear = snt.Linear(hidden_size)
    self._scale = 255. if rescale else 1.

  def __call__(self, images: tf.Tensor) -> tf.Tensor:
    inputs = tf.cast(images, self._dtype) / tf.cast(self._scale, self._dtype)
    return tf.nn.relu(self._linear(self._convs(inputs)))


class MiniGridTorso(snt.Module):
  """A small conv torso for MiniGrid's 7x7x3 egocentric view."""

  def __init__(self,
               channels: Sequence[int] = (16, 32),
               hidden_size: int = 64,
               rescale: bool = True,
               dtype: DType = tf.float32,
               name: str = 'minigrid_torso'):
    """`rescale=False` for inputs already normalised (RND's whitened views);
    `dtype` is what the layers compute in."""
    super().__init__(name=name)
    self._dtype = check_dtype(dtype)
    self._scale = _MINIGRID_CHANNEL_SCALE if rescale else (1., 1., 1.)
    layers = []
    for c in channels:
      layers += [snt.Conv2D(c, [2, 2], padding='VALID'), tf.nn.relu]
    self._network = snt.Sequential(
        layers + [snt.Flatten(), snt.Linear(hidden_size), tf.nn.relu])

  def __call__(self, images: tf.Tensor) -> tf.Tensor:
    inputs = tf.cast(images, self._dtype) / tf.constant(self._scale,
                                                        self._dtype)
    return self._network(inputs)


class OAREmbedding(embedding.OAREmbedding):
  """Acme's observation-action-reward embedding in the torso's dtype (Acme's
  own makes the one-hot action and the reward float32)."""

  def __init__(self, torso: snt.Module, num_actions: int,
               dtype: DType = tf.float32):
    super().__init__(torso, num_actions)
    self._dtype = check_dtype(dtype)

  def __call__(self, inputs: observation_action_reward.OAR) -> tf.Tensor:
    reward = tf.cast(inputs.reward, self._dtype)
    if len(reward.shape.dims) == 1:
      reward = tf.expand_dims(reward, axis=-1)
    return tf.concat([
        tf.cast(self._torso(inputs.observation), self._dtype),
        tf.one_hot(inputs.action, self._num_actions, dtype=self._dtype),
        tf.nn.tanh(reward)], axis=-1)


class RecurrentQNetwork(snt.RNNCore):
  """Torso -> LSTM -> dueling head, over OAR inputs.

  Called on one time step with batched inputs, or unrolled over a [T, B, ...]
  sequence with `unroll`, which applies torso and head to all steps at once.
  Whatever `dtype` it computes in (its torso's), it takes and returns float32
  states and Q-values.
  """

  def __init__(self,
               torso: snt.Module,
               num_actions: int,
               num_outputs: Optional[int] = None,
               lstm_size: int = 512,
               head_hidden_size: int = 512,
               dtype: DType = tf.float32,
               name: str = 'recurrent_q_network'):
    """`dtype` must be the one `torso` computes in."""
    super().__init__(name=name)
    self.num_actions = num_actions
    self.num_outputs = num_outputs or num_actions
    self.dtype = check_dtype(dtype)
    self._embed = OAREmbedding(torso, num_actions, self.dtype)
    self._core = snt.LSTM(lstm_size, dtype=self.dtype)
    self._head = duelling.DuellingMLP(
        self.num_outputs, hidden_sizes=[head_hidden_size])

  def __call__(self, inputs: observation_action_reward.OAR,
               state: snt.LSTMState) -> Tuple[tf.Tensor, snt.LSTMState]:
    embeddings = self._embed(inputs)
    outputs, new_state = self._core(embeddings, self._cast(state, self.dtype))
    return self._float32(self._head(outputs), new_state)

  def initial_state(self, batch_size: int, **unused_kwargs) -> snt.LSTMState:
    return self._cast(self._core.initial_state(batch_size), tf.float32)

  def unroll(self, inputs: observation_action_reward.OAR, state: snt.LSTMState,
             sequence_length: int) -> Tuple[tf.Tensor, snt.LSTMState]:
    """Unrolls over [T, B, ...] inputs; returns [T, B, outputs] values."""
    del sequence_length  # Read from the inputs.
    embeddings = snt.BatchApply(self._embed)(inputs)
    outputs, new_state = snt.dynamic_unroll(
        self._core, embeddings, self._cast(state, self.dtype))
    return self._float32(snt.BatchApply(self._head)(outputs), new_state)

  @staticmethod
  def _cast(state: snt.LSTMState, dtype: tf.dtypes.DType) -> snt.LSTMState:
    return tree.map_structure(lambda x: tf.cast(x, dtype), state)

  def _float32(self, q_values: tf.Tensor, state: snt.LSTMState
               ) -> Tuple[tf.Tensor, snt.LSTMState]:
    return tf.cast(q_values, tf.float32), self._cast(state, tf.float32)

  @property
  def torso_and_core_variables(self) -> Tuple[tf.Variable, ...]:
    """Variables of everything but the head (for partial weight transfer)."""
    return tuple(self._embed.variables) + tuple(self._core.variables)

  @property
  def head_variables(self) -> Tuple[tf.Variable, ...]:
    """Variables of the dueling head."""
    return tuple(self._head.variables)


def make_atari_network(num_actions: int,
                       num_outputs: Optional[int] = None,
                       dtype: DType = tf.float32) -> RecurrentQNetwork:
  """The Agent57 Q-network for Atari (84x84x1 observations)."""
  return RecurrentQNetwork(
      AtariTorso(dtype=dtype), num_actions, num_outputs, lstm_size=512,
      head_hidden_size=512, dtype=dtype)


# The tiny preset's Atari torso: the Agent57 layers with 1/4 of the channels.
TINY_ATARI_CONVS: Tuple[ConvLayer, ...] = ((8, 8, 4), (16, 4, 2), (16, 3, 1))
TINY_HIDDEN_SIZE = 32


def make_tiny_atari_network(num_actions: int,
                            num_outputs: Optional[int] = None,
                            dtype: DType = tf.float32) -> RecurrentQNetwork:
  """The Agent57 network's shape at a fraction of its size, for tests and
  smoke runs of the Atari programs on CPU."""
  return RecurrentQNetwork(
      AtariTorso(TINY_HIDDEN_SIZE, convs=TINY_ATARI_CONVS, dtype=dtype),
      num_actions, num_outputs, lstm_size=TINY_HIDDEN_SIZE,
      head_hidden_size=TINY_HIDDEN_SIZE, dtype=dtype)


def make_small_network(num_actions: int,
                       num_outputs: Optional[int] = None,
                       lstm_size: int = 64,
                       dtype: DType = tf.float32) -> RecurrentQNetwork:
  """A small Q-network for MiniGrid's 7x7 views."""
  return RecurrentQNetwork(
      MiniGridTorso(dtype=dtype), num_actions, num_outputs,
      lstm_size=lstm_size, head_hidden_size=64, dtype=dtype)

