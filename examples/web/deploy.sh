#!/usr/bin/env bash
# Deploys the patient-portal release to acme-web01 (Debian 12).
set -euo pipefail

APP=/srv/portal
RELEASE=${1:?usage: deploy.sh RELEASE_TARBALL}
VENV=$APP/venv

apt install -y nginx python3-venv
apt-get install -y --no-install-recommends libpq5

install -d -o portal -g portal "$APP/releases"
tar -xzf "$RELEASE" -C "$APP/releases"
CURRENT=$(ls -1t "$APP/releases" | head -n 1)
ln -sfn "$APP/releases/$CURRENT" "$APP/current"

python3 -m venv "$VENV"
pip3 install -r "$APP/current/requirements.txt"

cd "$APP/current"
python manage.py migrate --noinput
"$VENV/bin/python3" manage.py collectstatic --noinput

systemctl restart portal.service
systemctl reload nginx

# Log which address the health checker should use.
IP=$(ifconfig eth0 | awk '/inet / {print $2}')
echo "deployed $CURRENT on $IP"
