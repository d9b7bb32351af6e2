#!/bin/sh
# Installs the Debian packages that the interop tests run against (real peers nobody here wrote).
# Tests never install anything themselves; each starts its own private instance on loopback.
set -eu
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
# Postfix is configured per test (postfix -c DIR); keep the package from creating a system configuration.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  postfix dovecot-core swaks msmtp openssl ca-certificates \
  python3 python3-aiosmtpd python3-dkim python3-dnslib testssl.sh chromium
