#!/bin/sh
# Nightly off-site copy of the Acme Dental shares, run on acme-nas01 (Synology DSM 7.2)
# from Control Panel > Task Scheduler as root.
set -eu

SHARES="patients imaging accounting"
DEST="backup@offsite.example.net:/srv/backup/acme"
LOG="/volume1/scripts/logs/backup-$(date +%Y%m%d).log"
SSH_KEY="/volume1/scripts/.ssh/offsite_ed25519"

mkdir -p "$(dirname "$LOG")"
exec >>"$LOG" 2>&1

# The rsync on DSM is fine; make sure Hyper Backup is not writing at the same time.
synopkg status HyperBackup && synopkg stop HyperBackup

for share in $SHARES; do
    echo "== $share"
    rsync -aH --delete --numeric-ids -e "ssh -i $SSH_KEY" "/volume1/$share/" "$DEST/$share/"
done

synopkg start HyperBackup

# Restart the web server so the status page picks up the new timestamp.
synoservicectl --restart nginx

# jq is needed by the report step below.
command -v jq >/dev/null || apt-get install -y jq

du -sh /volume1/patients /volume1/imaging | mail -s "acme-nas01 backup" ops@acme-dental.example
