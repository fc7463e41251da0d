# Sourced by scripts/test and scripts/demo: puts Swift on PATH and installs the system packages
# Cairn needs with apt-get, so a fresh Debian 12 machine needs nothing done by hand.

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null 2>&1 || {
    echo "error: swift not found; install Swift 6.1 or later (expected at /opt/swift)" >&2
    exit 1
}

cairn_missing_packages() {
    local missing=()
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    pkg-config --exists yaml-0.1 2>/dev/null || missing+=(libyaml-dev)
    pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
    command -v restic >/dev/null 2>&1 || missing+=(restic)
    # The Kube client's TLS tests run a real `openssl s_server`.
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    # Some images ship kubectl from another package; kubernetes-client would clash with it.
    command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
    # The agent's sftp tests run a real sshd on loopback, and make keys with ssh-keygen.
    test -x /usr/sbin/sshd || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    # setpriv runs the agent as another user in the unreadable-file test (util-linux, usually there).
    command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
    echo "${missing[@]}"
}

cairn_install_packages() {
    cairn_install_moto
    local missing
    missing=$(cairn_missing_packages)
    [ -z "$missing" ] && return 0
    echo "==> installing system packages: $missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    missing=$(cairn_missing_packages)
    if [ -n "$missing" ]; then
        echo "error: still missing after apt-get install: $missing" >&2
        exit 1
    fi
}

# The agent's S3 tests and the demo run moto's S3 server (PyPI) on loopback.
cairn_install_moto() {
    command -v moto_server >/dev/null 2>&1 && return 0
    echo "==> installing moto[server] from PyPI"
    python3 -m pip install --quiet 'moto[server]'
    hash -r
    command -v moto_server >/dev/null 2>&1 || {
        echo "error: moto_server is still not on PATH after pip install 'moto[server]'" >&2
        exit 1
    }
}
