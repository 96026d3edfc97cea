#!/bin/sh
# Installs every Debian package the build, the demo and the tests need.
# Idempotent: when everything is present it runs no apt command at all.
# Works on a fresh Debian 12 where `apt-get update` has never run.
set -eu

# Build toolchain and libraries (see README "Dependencies").
BUILD_PKGS="
build-essential pkg-config make
libsofia-sip-ua-dev
libwebsockets-dev libwebsockets-evlib-uv
libjansson-dev libjwt-dev libssl-dev openssl
libsrtp2-dev libusrsctp-dev libuv1-dev liburing-dev
libcmocka-dev clang libclang-rt-14-dev
"
# Tools the tests and the demo drive (peers are added here as work lands):
# Kamailio is the IMS core stand-in, SIPp scripted SIP peers,
# python3-websockets a scripted WSS client, Chromium (driven by
# playwright-core from npm) the real browser; python3-jwt and
# python3-cryptography sign the web-authentication test tokens; aiortc is
# a scripted WebRTC peer for the media plane (tests/integ/agw_media.py).
TEST_PKGS="
curl ca-certificates procps iproute2 python3
kamailio kamailio-websocket-modules kamailio-tls-modules sip-tester python3-websockets
python3-jwt python3-cryptography python3-aiortc
chromium
"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

# Node.js and npm from Debian, unless the machine already has an npm (a
# NodeSource nodejs bundles its own npm and conflicts with Debian's).
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages:$missing; run as root (or: sudo $0)" >&2
        exit 1
    fi
    echo "install-deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the lists when they were never fetched or are older than a day.
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
        apt-get update -q
    fi
    # Debian starts packaged daemons on install (kamailio on port 5060):
    # the demo and the tests start their own, so forbid service starts
    # during this install, and leave what we installed disabled.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
    for svc in kamailio; do
        case " $missing " in *" $svc "*)
            if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
                systemctl disable --now "$svc" >/dev/null 2>&1 || true
            fi ;;
        esac
    done
fi

# npm packages of the browser tests (playwright-core drives the Debian
# Chromium; it never downloads a browser), pinned by package-lock.json.
# Reinstalled only when the lock file changed.
here=$(cd "$(dirname "$0")/.." && pwd)
web="$here/tests/browser"
if [ -f "$web/package-lock.json" ] &&
   ! cmp -s "$web/package-lock.json" "$web/node_modules/.package-lock.json.installed" 2>/dev/null; then
	echo "install-deps: npm ci in tests/browser"
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error) &&
		cp "$web/package-lock.json" "$web/node_modules/.package-lock.json.installed"
fi
