# KubeSpawner settings of the workspaces: the Kubernetes form of SandboxSpawner's isolation.
# Zero to JupyterHub sets most of these from values.yaml (singleuser.*); this file states them
# directly so that they can be checked offline (tests/unit/sandbox/test_sandbox_kubernetes.py)
# and used as hub.extraConfig in a deployment.
import os

from open_portal.hub import HubSettings, configure_origins, origins
from sandbox.kubernetes import make_post_stop_hook, make_pre_spawn_hook

c = get_config()  # noqa: F821

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.allow_named_servers = True
c.KubeSpawner.pre_spawn_hook = make_pre_spawn_hook(
    os.environ.get("PDS_GRANT_PROVIDER", "open_portal.workspaces:workspace_grant"),
    os.environ.get("PDS_PORTAL_INTERNAL_URL", "http://hub:10101"),
    issuer=os.environ.get("PDS_CREDENTIAL_ISSUER", "open_portal.workspaces:issue_credential"),
)
c.KubeSpawner.post_stop_hook = make_post_stop_hook(
    os.environ.get("PDS_CREDENTIAL_REVOKER", "open_portal.workspaces:revoke_credential")
)
c.KubeSpawner.image = os.environ.get("PDS_WORKSPACE_IMAGE", "pds/workspace:0.1.0")
c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
c.KubeSpawner.default_url = "/lab"
c.KubeSpawner.uid = 1000
c.KubeSpawner.gid = 1000
c.KubeSpawner.fs_gid = 1000
c.KubeSpawner.privileged = False
c.KubeSpawner.allow_privilege_escalation = False
c.KubeSpawner.container_security_context = {
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
}
c.KubeSpawner.pod_security_context = {
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
c.KubeSpawner.automount_service_account_token = False
c.KubeSpawner.service_account = None
c.KubeSpawner.extra_pod_config = {"enableServiceLinks": False, "hostUsers": False}
c.KubeSpawner.mem_limit = "2G"
c.KubeSpawner.mem_guarantee = "512M"
c.KubeSpawner.cpu_limit = 1.0
c.KubeSpawner.cpu_guarantee = 0.25
c.KubeSpawner.extra_resource_limits = {"ephemeral-storage": "1Gi"}
# the home: one PVC per named server, deleted with the server (destroy_workspace removes it)
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.storage_capacity = "1Gi"
c.KubeSpawner.pvc_name_template = "workspace-{user_server}"
c.KubeSpawner.delete_pvc = True
c.KubeSpawner.volumes = [
    {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}},
    {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
]
c.KubeSpawner.volume_mounts = [
    {"name": "home", "mountPath": "/home/workspace"},
    {"name": "tmp", "mountPath": "/tmp"},
]
c.KubeSpawner.working_dir = "/home/workspace"
c.KubeSpawner.extra_labels = {"hub.jupyter.org/network-access-hub": "true"}
c.KubeSpawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
]  # no portal access: the workspace uses its grant's credential (ADR 0004)
# workspaces on origins of their own, as on one host (ADR 0007)
configure_origins(c, origins(HubSettings()))
