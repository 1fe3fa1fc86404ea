#!/usr/bin/env bash
# `trackiq analyze logs` on a real nginx access log: Debian's nginx serves a small file to
# `trackiq load` (300 requests) and a rate-limited 600 KB file to curl (3 requests, ~0.3 s each),
# logging $request_time two ways (rt=... and as the last field); both presets must read every
# request and find exactly the three slow ones, at their line numbers, over --threshold 100ms.
#   nginx_logs_test.sh TRACKIQ
set -euo pipefail
trackiq=$1
command -v nginx >/dev/null || { echo "nginx not found (apt-get install nginx-light)" >&2; exit 1; }
tmp=$(mktemp -d)
trap '[[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/www"
printf 'hello, world\n' > "$tmp/www/small.txt"
head -c 600000 /dev/zero > "$tmp/www/big.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
  log_format rt '\$remote_addr - - [\$time_local] "\$request" \$status \$body_bytes_sent rt=\$request_time uct="\$upstream_connect_time"';
  log_format last '\$remote_addr - - [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_user_agent" \$request_time';
  client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp; uwsgi_temp_path $tmp; scgi_temp_path $tmp;
  server {
    listen 127.0.0.1:$port;
    root $tmp/www;
    access_log $tmp/rt.log rt;
    access_log $tmp/last.log last;
    location /big.bin { limit_rate 2m; limit_rate_after 0; }
  }
}
CONF
nginx -c "$tmp/nginx.conf" -p "$tmp"
for _ in $(seq 50); do [[ -s $tmp/nginx.pid ]] && break; sleep 0.1; done
"$trackiq" load "http://127.0.0.1:$port/small.txt" --requests 300 --concurrency 4 --no-store >/dev/null
for _ in 1 2 3; do curl -sf "http://127.0.0.1:$port/big.bin" -o /dev/null; done
kill -QUIT "$(cat "$tmp/nginx.pid")"  # graceful: the logs are flushed
for _ in $(seq 50); do [[ -f $tmp/nginx.pid ]] || break; sleep 0.1; done

for preset in rt last; do
  log=$tmp/$preset.log
  lines=$(wc -l < "$log")
  out=$("$trackiq" analyze logs "$log" --preset "nginx-$preset" --threshold 100ms --json)
  python3 - "$preset" "$lines" "$out" <<'PY'
import json, sys
preset, lines, out = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
assert lines >= 303, (preset, "expected >= 303 requests logged", lines)
assert out["lines"] == lines and out["matched"] == lines, (preset, out["lines"], out["matched"], lines)
slow = [s["line"] for s in out["top_spikes"] if s["over_threshold"]]
assert out["spikes_over_threshold"] == 3 and slow == [lines - 2, lines - 1, lines], (preset, out)
assert all(s["value_ms"] >= 150 for s in out["top_spikes"] if s["over_threshold"]), out["top_spikes"]
assert out["percentiles_ms"]["p50"] < 50, out["percentiles_ms"]
print(f"nginx-{preset}: {lines} requests read, the 3 slow ones at lines {slow}")
PY
done
