# Sourced by the benchmarks that need a web server to compare against (bench/load_vs_wrk.sh,
# bench/serve_vs_nginx.sh): start_local_nginx DIR ROOT starts Debian's nginx as one worker on a free
# loopback port, serving the files of ROOT with keep-alive and no access log, its pid file, logs and
# temp files in DIR; it sets NGINX_PORT and returns once a request to / is answered. The caller
# stops it with: kill "$(cat DIR/nginx.pid)".
start_local_nginx() {
  local dir=$1 root=$2
  command -v nginx >/dev/null || { echo "nginx not found (apt-get install nginx-light)" >&2; return 2; }
  NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  open_file_cache max=16;
  types { application/json json; text/plain txt; }
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen 127.0.0.1:$NGINX_PORT; root $root; }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && return 0; sleep 0.1; done
  echo "nginx did not answer on port $NGINX_PORT" >&2
  return 1
}
