"""Acting primitives below every agent: the batched actor interface and its
loop (`batched_loop`), K environments stepped in lockstep
(`environment_batch`), the replay writer (`structured_adder`) and the
network call traced once per input signature (`fixed_shape_function`)."""
