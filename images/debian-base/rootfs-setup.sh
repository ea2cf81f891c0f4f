#!/bin/sh
# Runs INSIDE the freshly debootstrapped rootfs (chroot) before it is tarred and
# `docker import`ed as itstack-local/debian-base. Mirrors what Debian's official
# container images (debuerreotype) do to a minbase rootfs.
# Args: $1 = Debian mirror URI, $2 = security mirror URI, $3 = suite.
set -eu
MIRROR="$1"; SECURITY="$2"; SUITE="$3"

rm -f /etc/apt/sources.list
cat > /etc/apt/sources.list.d/debian.sources <<SRC
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

# no daemons started by maintainer scripts during image builds
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d

# small images: no recommends, no docs/man/locales (copyright files kept)
cat > /etc/apt/apt.conf.d/90itstack-container <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
cat > /etc/dpkg/dpkg.cfg.d/90itstack-excludes <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
echo 'force-unsafe-io' > /etc/dpkg/dpkg.cfg.d/90itstack-unsafe-io

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get -y -qq dist-upgrade
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/*.log /var/log/apt/*
rm -rf /usr/share/doc/*/[!c]* /usr/share/man/* /usr/share/info/* /usr/share/lintian/* 2>/dev/null || true
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
: > /etc/resolv.conf
echo localhost > /etc/hostname
