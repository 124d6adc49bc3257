#!/bin/sh
# Create the service account the Windows server uses to write to \\acme-nas01\backup.
set -eu
USER_NAME=svc_backup
PASSWORD=$(cat /volume1/scripts/.secrets/svc_backup)

if synouser --get "$USER_NAME" >/dev/null 2>&1; then
    echo "$USER_NAME exists"
else
    useradd -M -s /sbin/nologin "$USER_NAME"
    echo "$USER_NAME:$PASSWORD" | chpasswd
fi
synogroup --member backup-writers "$USER_NAME"

# Keep the account's password from expiring: check weekly.
(crontab -l 2>/dev/null; echo "0 6 * * 1 /volume1/scripts/check-svc-backup.sh") | crontab -
