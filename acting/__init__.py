"""Acting primitives below every agent: the batched actor interface and its
loop (`batched_loop`), and K environments stepped in lockstep
(`environment_batch`)."""
