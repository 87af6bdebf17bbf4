"""Reads a Reverb queue table back in the order its items were inserted.

`reverb.Client.sample(table, num_samples=n)` fetches through several sampler
workers at once, so items of a FIFO queue can arrive out of order. Taking
one item per sampler (one worker, one item in flight) keeps the queue's order.
"""

from typing import Any, List

import reverb


def read_in_order(client: reverb.Client, table: str,
                  unpack_as_table_signature: bool = False) -> List[Any]:
  """Every item in `table` (a queue), oldest first, as `ReplaySample`s."""
  size = client.server_info()[table].current_size
  return [next(client.sample(table, num_samples=1, emit_timesteps=False,
                             unpack_as_table_signature=unpack_as_table_signature))
          for _ in range(size)]
