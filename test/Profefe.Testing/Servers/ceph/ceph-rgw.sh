#!/usr/bin/env bash
# ceph-rgw.sh - a throw-away single-node Ceph cluster for the tests: 1 mon, 1 OSD on memstore (RAM), 1 radosgw
# (beast) on 127.0.0.1. Everything lives in STATE_DIR; nothing global is created or read (no /etc/ceph, no
# /var/lib/ceph, no systemd). Driven by Profefe.Testing.Servers.CephRgwServer.
#
#   ceph-rgw.sh start        STATE_DIR S3_PORT MON_PORT ACCESS_KEY SECRET_KEY
#   ceph-rgw.sh stop         STATE_DIR              # every daemon this script recorded, rgw first
#   ceph-rgw.sh kill-rgw     STATE_DIR              # SIGKILL radosgw alone, as a crash would (data stays in the OSD)
#   ceph-rgw.sh start-rgw    STATE_DIR              # radosgw again, same port and config
#   ceph-rgw.sh create-bucket STATE_DIR BUCKET
#
# Output: progress and errors on stderr; exit status 0 on success.
#
# Pitfalls (learned the hard way on Ceph 16 Pacific):
# - No cephx on a loopback-only cluster, but radosgw asks for "secure" mon mode by default, which AUTH_NONE
#   cannot do: allow "crc secure" for every messenger mode or radosgw hangs at start.
# - msgr v1 and IPv6 off, or the daemons try to bind addresses that may not exist in a container.
# - One OSD: pools need size 1 and few PGs, and there is no mgr, so the PG autoscaler must be off; otherwise
#   the pools radosgw creates on first start never become active and it never answers.
# - paxos propose interval: the mon batches map changes for 1 s by default; radosgw creates ~6 pools one after
#   another at first start, so this takes start-up from ~8 s down to ~1 s.
# - Daemons must be started with stdin/stdout/stderr away from the caller (the test runner waits on its pipes)
#   and in their own session (setsid) so a signal to the test process group does not reach them half-way.
# - beast without tcp_nodelay=1 sends a small response's body behind its headers only after the client's delayed
#   ACK: every small GET then takes ~40 ms instead of ~2 ms.
# - The AWS SDKs' default trailing CRC32 checksums (AWSSDK.S3 4.x) are rejected by this radosgw with
#   XAmzContentSHA256Mismatch: clients must use checksum mode "when required" (see S3StorageOptions).
set -euo pipefail

HOST=127.0.0.1
log() { printf '[ceph-rgw %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -ge 2 ] || die "usage: $0 start|stop|kill-rgw|start-rgw|create-bucket STATE_DIR ..."
CMD="$1"
STATE="$2"
shift 2
case "$STATE" in /*) ;; *) die "STATE_DIR must be absolute";; esac
case "$STATE" in /|/tmp|/tmp/|/var|/var/*|/etc|/etc/*|/usr|/usr/*|"$HOME") die "refusing STATE_DIR=$STATE";; esac
CONF="$STATE/ceph.conf"
PIDS="$STATE/pids"

pid_alive() {  # pid expected-comm (a zombie counts as dead)
  [ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

s3_endpoint() { sed -n 's/^S3_ENDPOINT=//p' "$STATE/s3.env"; }
s3_key() { sed -n "s/^$1=//p" "$STATE/s3.env"; }

http_code() {  # anonymous GET / on the S3 port: 200 once radosgw serves
  curl -s -o /dev/null -m 3 -w '%{http_code}' "$(s3_endpoint)/" 2>/dev/null || true
}

signed() {  # method path: a SigV4-signed request with the test user's keys; prints the HTTP status
  curl -s -o "$STATE/log/curl.out" -m 10 -w '%{http_code}' -X "$1" --aws-sigv4 'aws:amz:us-east-1:s3' \
    --user "$(s3_key S3_ACCESS_KEY):$(s3_key S3_SECRET_KEY)" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$(s3_endpoint)$2" 2>/dev/null || true
}

start_daemon() {  # role comm args...  (records "role pid comm")
  local role="$1" comm="$2"
  shift 2
  setsid "$@" -f -c "$CONF" >> "$STATE/log/$role.out" 2>&1 < /dev/null &
  local pid=$!
  # Replace any earlier record of this role (radosgw restarts).
  if [ -f "$PIDS" ]; then
    grep -v "^$role " "$PIDS" > "$PIDS.new" || true
    mv "$PIDS.new" "$PIDS"
  fi
  echo "$role $pid $comm" >> "$PIDS"
  sleep 0.1
  pid_alive "$pid" "$comm" || { tail -20 "$STATE/log/$role.out" >&2 || true; die "$role ($comm) exited at once"; }
}

assert_running() {
  local role pid comm
  while read -r role pid comm; do
    pid_alive "$pid" "$comm" || { tail -20 "$STATE/log/$role.out" >&2 || true; die "$role ($comm, pid $pid) died; logs in $STATE/log"; }
  done < "$PIDS"
}

deadline=$(( $(date +%s) + ${CEPH_START_TIMEOUT:-90} ))
check_deadline() { [ "$(date +%s)" -lt "$deadline" ] || die "timed out while $1"; }

stop_one() {  # role pid comm signal
  local role="$1" pid="$2" comm="$3" signal="$4" i
  pid_alive "$pid" "$comm" || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    pid_alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  log "$role (pid $pid) did not stop on $signal, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    pid_alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  log "WARNING: $role (pid $pid) still present"
  return 1
}

wait_rgw() {
  until [ "$(http_code)" = 200 ]; do assert_running; check_deadline "waiting for radosgw on $(s3_endpoint)"; sleep 0.1; done
}

case "$CMD" in
start)
  [ $# -eq 4 ] || die "usage: $0 start STATE_DIR S3_PORT MON_PORT ACCESS_KEY SECRET_KEY"
  S3_PORT="$1" MON_PORT="$2" ACCESS_KEY="$3" SECRET_KEY="$4"
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl setsid; do
    command -v "$b" >/dev/null 2>&1 || die "$b is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common curl)"
  done
  [ ! -e "$PIDS" ] || die "$STATE already holds a cluster; stop it first"
  mkdir -p "$STATE"/{mon,osd,rgw,log,run,crash}
  FSID=$(cat /proc/sys/kernel/random/uuid)
  cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = v2:$HOST:$MON_PORT
public addr = $HOST
cluster addr = $HOST
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms client mode = crc secure
ms mon service mode = crc secure
ms service mode = crc secure
ms mon cluster mode = crc secure
ms cluster mode = crc secure
keyring = $STATE/keyring
run dir = $STATE/run
crash dir = $STATE/crash
admin socket = $STATE/run/\$name.asok
pid file = $STATE/run/\$name.pid
log file = $STATE/log/\$name.log
mon cluster log file = $STATE/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.01
paxos min wait = 0.001
[mon]
mon data = $STATE/mon/\$name
[osd]
osd data = $STATE/osd/\$name
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-2147483648}
[client.rgw.s3]
rgw frontends = beast endpoint=$HOST:$S3_PORT tcp_nodelay=1
rgw data = $STATE/rgw
rgw thread pool size = 64
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF
  cat > "$STATE/s3.env" <<EOF
S3_ENDPOINT=http://$HOST:$S3_PORT
S3_ACCESS_KEY=$ACCESS_KEY
S3_SECRET_KEY=$SECRET_KEY
EOF
  CEPH=(ceph -c "$CONF" --connect-timeout 10)
  monmaptool --create --fsid "$FSID" --addv a "[v2:$HOST:$MON_PORT]" "$STATE/monmap" >/dev/null
  mkdir -p "$STATE/mon/mon.a"
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$STATE/monmap" > "$STATE/log/mon-mkfs.out" 2>&1 \
    || { cat "$STATE/log/mon-mkfs.out" >&2; die "ceph-mon --mkfs failed"; }
  start_daemon mon ceph-mon ceph-mon -i a
  until "${CEPH[@]}" mon stat >/dev/null 2>&1; do assert_running; check_deadline "waiting for the mon"; sleep 0.1; done
  OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
  OSD_ID=$("${CEPH[@]}" osd new "$OSD_UUID")
  mkdir -p "$STATE/osd/osd.$OSD_ID"
  ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" > "$STATE/log/osd-mkfs.out" 2>&1 \
    || { cat "$STATE/log/osd-mkfs.out" >&2; die "ceph-osd --mkfs failed"; }
  start_daemon osd ceph-osd ceph-osd -i "$OSD_ID"
  until "${CEPH[@]}" osd stat 2>/dev/null | grep -q '1 up'; do assert_running; check_deadline "waiting for the osd"; sleep 0.1; done
  start_daemon rgw radosgw radosgw -n client.rgw.s3
  wait_rgw
  radosgw-admin -c "$CONF" user create --uid=profefe-tests --display-name="profefe tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" > "$STATE/log/user.json" 2> "$STATE/log/user.err" \
    || { cat "$STATE/log/user.err" >&2; die "radosgw-admin user create failed"; }
  until [ "$(signed GET /)" = 200 ]; do assert_running; check_deadline "waiting for the S3 user"; sleep 0.1; done
  log "S3 ready on $(s3_endpoint)"
  ;;
stop)
  rc=0
  if [ -s "$PIDS" ]; then
    # radosgw, then the OSD, then the mon: the OSD tells the mon it is going down.
    for role in rgw osd mon; do
      line=$(grep "^$role " "$PIDS" || true)
      [ -n "$line" ] || continue
      # shellcheck disable=SC2086
      stop_one $line TERM || rc=1
    done
    [ "$rc" -ne 0 ] || rm -f "$PIDS"
  fi
  exit "$rc"
  ;;
kill-rgw)
  line=$(grep '^rgw ' "$PIDS" || true)
  [ -n "$line" ] || die "no radosgw recorded in $PIDS"
  # shellcheck disable=SC2086
  stop_one $line KILL
  ;;
start-rgw)
  line=$(grep '^rgw ' "$PIDS" || true)
  # shellcheck disable=SC2086
  if [ -n "$line" ] && pid_alive $(echo "$line" | cut -d' ' -f2-3); then die "radosgw is already running"; fi
  start_daemon rgw radosgw radosgw -n client.rgw.s3
  wait_rgw
  until [ "$(signed GET /)" = 200 ]; do assert_running; check_deadline "waiting for radosgw to serve the S3 user"; sleep 0.1; done
  ;;
create-bucket)
  [ $# -eq 1 ] || die "usage: $0 create-bucket STATE_DIR BUCKET"
  code=$(signed PUT "/$1")
  [ "$code" = 200 ] || die "creating bucket $1 answered HTTP $code: $(cat "$STATE/log/curl.out" 2>/dev/null)"
  ;;
*)
  die "unknown command $CMD"
  ;;
esac
