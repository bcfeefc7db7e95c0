#!/usr/bin/env bash
# Installs Autobahn|Testsuite's wstest (Python 2 only) without Docker and without
# touching the system: Python 2.7 comes from Debian 11 (bullseye) packages, fetched
# with apt-get into a private apt state and unpacked with dpkg -x; pip 20.3.4 (the
# last for Python 2) and the suite's pinned dependencies come from PyPI.
#
#   bash test/hardening/autobahn/setup-wstest.sh [DIR]   (default ~/.cache/autobahn-wstest)
#
# Afterwards DIR/wstest runs the suite; run.sh in this folder uses it.
set -euo pipefail
DIR="${1:-${HOME}/.cache/autobahn-wstest}"
mkdir -p "$DIR"/{apt/lists/partial,apt/cache/archives/partial,debs,root,site,wheels}
cd "$DIR"

cat > apt/sources.list <<'LIST'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
LIST
APT=(-o Dir::Etc::SourceList="$DIR/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$DIR/apt/lists" -o Dir::Cache="$DIR/apt/cache" -o Dir::State::status=/var/lib/dpkg/status)
apt-get "${APT[@]}" update
(cd debs && apt-get "${APT[@]}" download python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib \
  libpython2.7 libpython2.7-dev python2.7-dev libssl1.1 libffi7)
for deb in debs/*.deb; do dpkg -x "$deb" root; done

cat > py2 <<SH
#!/bin/sh
export LD_LIBRARY_PATH="$DIR/root/usr/lib/x86_64-linux-gnu"
export PYTHONHOME="$DIR/root/usr"
export PYTHONPATH="$DIR/site"
exec "$DIR/root/usr/bin/python2.7" "\$@"
SH
chmod +x py2
./py2 -c 'import ssl, zlib; print("python 2.7 ok")'

python3 -m pip download --no-deps --python-version 2.7 --only-binary=:all: -d wheels pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
PIP=(./py2 wheels/pip-20.3.4-py2.py3-none-any.whl/pip install --no-cache-dir --target "$DIR/site")
"${PIP[@]}" wheels/setuptools-44.1.1-py2.py3-none-any.whl wheels/wheel-0.37.1-py2.py3-none-any.whl
CFLAGS="-I$DIR/root/usr/include/python2.7 -I$DIR/root/usr/include" LDFLAGS="-L$DIR/root/usr/lib/x86_64-linux-gnu" \
"${PIP[@]}" 'txaio==2.1.0' 'incremental==16.10.1' 'pyOpenSSL==19.1.0' 'cryptography==3.3.2' 'Twisted==19.10.0' \
  'zope.interface==4.6.0' 'jinja2==2.11.3' 'markupsafe==1.1.1' 'Werkzeug==1.0.1' 'klein==17.10.0' \
  'service_identity==18.1.0' 'unittest2==1.1.0' 'six==1.16.0' 'autobahn[twisted]==0.10.9' 'autobahntestsuite==0.8.2'
# --target does not process zope's namespace .pth file.
[ -f site/zope/__init__.py ] || echo "__path__ = __import__('pkgutil').extend_path(__path__, __name__)" > site/zope/__init__.py

cat > wstest <<SH
#!/bin/sh
exec "$DIR/py2" -c 'import sys; sys.argv[0] = "wstest"; from autobahntestsuite.wstest import run; run()' "\$@"
SH
chmod +x wstest
./wstest --help > /dev/null && echo "wstest ready: $DIR/wstest"
