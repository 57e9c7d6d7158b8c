"""The deploy files' security settings, read as a deployer's tools read them.

Run by scripts/check_deploy.sh (part of `make test`) after hadolint, kubernetes-validate
and systemd-analyze: those check the files are valid; this checks they say what the
security review asked (issue 24): a numeric non-root user, no privilege escalation, no
capability, a read-only root, the runtime's seccomp profile, no service-account token,
/metrics reachable from the monitoring namespace alone, trusted proxies narrowed to the
ingress, a released image tag, an ignore file for the container build, and the usual
systemd hardening. Prints each failure and exits 1 if there is any.
"""

import ipaddress
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def kubernetes():
    documents = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/roster.yaml").read_text()))
    by_kind = {doc["kind"]: doc for doc in documents if doc}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    check(pod.get("automountServiceAccountToken") is False, "no service-account token in the pods")
    security = pod.get("securityContext", {})
    check(security.get("runAsNonRoot") is True, "pods run as non-root")
    user = security.get("runAsUser")
    check(isinstance(user, int) and user > 0, "pods run as a numeric user other than root")
    check(security.get("seccompProfile", {}).get("type") == "RuntimeDefault", "the runtime's seccomp profile")
    for container in pod["containers"]:
        name = container["name"]
        own = container.get("securityContext", {})
        check(own.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation false")
        check(own.get("readOnlyRootFilesystem") is True, f"{name}: a read-only root filesystem")
        check(own.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: every capability dropped")
        image = container["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        check(tag not in ("", "latest"), f"{name}: an image tag that is not latest ({image})")
    policy = by_kind.get("NetworkPolicy")
    check(policy is not None, "a NetworkPolicy")
    if policy:
        metrics_from = [
            rule.get("from", [])
            for rule in policy["spec"].get("ingress", [])
            if any(port.get("port") in (9000, "metrics") for port in rule.get("ports", []))
        ]
        check(len(metrics_from) == 1, "one ingress rule admits the metrics port")
        namespaces = [
            peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            for peers in metrics_from
            for peer in peers
        ]
        check(namespaces == ["monitoring"], f"the metrics port from the monitoring namespace alone ({namespaces})")
    proxies = by_kind["ConfigMap"]["data"].get("ROSTER_TRUSTED_PROXIES", "[]")
    networks = [ipaddress.ip_network(text.strip()) for text in proxies.strip("[]").split(",") if text.strip()]
    check(networks and all(net.num_addresses <= 256 for net in networks),
          f"trusted proxies narrowed to the ingress ({proxies})")


def container():
    lines = (ROOT / "deploy/Containerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    check(users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0",
          f"the image runs as a numeric non-root user ({users})")
    ignore = ROOT / ".dockerignore"
    entries = ignore.read_text().split() if ignore.exists() else []
    for wanted in (".data/", "target/"):
        check(wanted in entries, f".dockerignore keeps {wanted} out of the build")


def systemd():
    settings = {}
    for line in (ROOT / "deploy/roster.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    wanted = {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "PrivateTmp": "true",
        "ProtectHome": "true",
        "CapabilityBoundingSet": "",
    }
    for key, value in wanted.items():
        check(settings.get(key) == [value], f"systemd: {key}={value}")
    check("AF_INET" in " ".join(settings.get("RestrictAddressFamilies", [])), "systemd: RestrictAddressFamilies")
    check("@system-service" in settings.get("SystemCallFilter", []), "systemd: SystemCallFilter=@system-service")


kubernetes()
container()
systemd()
for failure in failures:
    print(f"deploy check failed: {failure}", file=sys.stderr)
print(f"deploy files: {'all' if not failures else len(failures)} checks {'passed' if not failures else 'failed'}")
sys.exit(1 if failures else 0)
