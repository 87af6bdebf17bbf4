"""Reads a Reverb queue table back in the order its items were inserted.

One item per sampler, each taken before the next is asked for: the order is
the queue's whatever the sampler's worker count (Reverb's default is one
worker; `Client.sample` does not promise it).
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
