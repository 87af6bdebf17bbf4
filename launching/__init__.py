"""Launching a program into a run directory and watching it: the run
directory's life (`runs`), the local_mp supervisor, reports, and launch on
several machines (Vertex AI: `vertex`, `resources`, `rehearsal`)."""
