"""Workspaces: one isolated Jupyter server per active grant.

On the hub: ``sandbox.spawner.SandboxSpawner`` (entry point ``pds-sandbox``), ``sandbox.lifecycle``
(``stop_workspace``, ``destroy_workspace``), ``sandbox.culler``, ``sandbox.kubernetes``.
Inside a workspace: ``sandbox.client`` (standard library and polars only). This module imports
nothing, so that the client can be installed alone in the workspace environment.
"""
