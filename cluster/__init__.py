"""Launching the programs with each node on a machine of its own: Vertex AI
through Launchpad (`vertex`), the hardware each node group asks for
(`resources`), and a rehearsal of that launch on one machine (`rehearsal`)."""
