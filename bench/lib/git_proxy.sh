# Item 4 of bench/run (sourced): clone and push of a GIT_SIZE_MB repository three ways, in the
# same run, against the fake GitLab's `git http-backend`:
#   direct  git -> fake, Authorization sent by git itself (http.extraHeader)
#   nginx   git -> nginx reverse proxy that injects the same header -> fake
#   proxy   git -> `keybridge git-proxy` (which asks keybridge for the token) -> fake
# Each clone is a fresh `git clone --bare`, each push sends the whole history to an empty
# project. Reports times, ratios to direct, and the git-proxy's peak RSS (VmHWM).

git_timed() {  # git_timed LABEL ARGS...: runs git, appends "LABEL seconds" to git.times
  local t0 t1
  local label=$1; shift
  t0=$(date +%s%N)
  if env -i PATH=/usr/bin:/bin HOME="$WORK/git-home" GIT_TERMINAL_PROMPT=0 timeout 600 git "$@" \
    >>"$WORK/git.log" 2>&1; then
    t1=$(date +%s%N)
    echo "$label $(( (t1 - t0) / 1000000 ))" >>"$WORK/git.times"
  else
    log "git $label failed; see $WORK/git.log"
    echo "$label failed" >>"$WORK/git.times"
  fi
}

best_time() {  # the smaller of the rounds' times of LABEL, or "failed" if a round failed
  awk -v k="$1" '$1 == k { if ($2 == "failed") bad = 1; else if (min == "" || $2 < min) min = $2 }
    END { print (bad || min == "") ? "failed" : min }' "$WORK/git.times"
}

bench_git_proxy() {
  local bytes=$((GIT_SIZE_MB * 1024 * 1024)) line pid gitlab token basic
  mkdir -p "$WORK/git-home"
  log "git proxy: seeding a ${GIT_SIZE_MB} MB repository"
  start_bg fakes-git "$FAKES" --gitlab-project bench/big --seed-bytes "$bytes" \
    --gitlab-empty-project bench/push-direct-1 --gitlab-empty-project bench/push-nginx-1 \
    --gitlab-empty-project bench/push-proxy-1 --gitlab-empty-project bench/push-direct-2 \
    --gitlab-empty-project bench/push-nginx-2 --gitlab-empty-project bench/push-proxy-2 \
    --max-body-mb $((GIT_SIZE_MB * 2 + 64)) \
    --issue-tokens 1 --issue-tokens-file "$WORK/git.tokens" --worker-threads 16
  pid=$LAST_PID
  line=$(first_line "$WORK/fakes-git.out" "$pid")
  gitlab=$(json_get "$line" gitlab.url)
  token=$(json_get "$(head -n1 "$WORK/git.tokens")" access_token)
  basic="Basic $(printf 'oauth2:%s' "$token" | base64 -w0)"

  # keybridge knows the same token: one user, one provider (p000) pointing at the fake.
  local db="sqlite://$WORK/git.db" key=$WORK/git.key
  "$SEED" --database "$db" --key-file "$key" --provider-url "$gitlab" \
    --client-id "$(json_get "$line" gitlab.client_id)" \
    --client-secret "$(json_get "$line" gitlab.client_secret)" --providers 1 --users-to 1 \
    --tokens-file "$WORK/git.tokens" --sample 1 --sample-file "$WORK/git.sample" 2>>"$WORK/seed.log"
  start_keybridge "$db" "$key"
  pairs_for "$WORK/git.sample" session "$WORK/git.pairs"
  local session; session=$(cut -f1 "$WORK/git.pairs")

  # nginx as the reverse proxy that injects the header (no buffering, unlimited bodies).
  local nport; nport=$(free_port)
  local ndir=$WORK/nginx-git user_line=""
  mkdir -p "$ndir"
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat >"$ndir/nginx.conf" <<NGINX
$user_line
worker_processes auto;
pid $ndir/nginx.pid;
error_log $ndir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:$nport;
    location / {
      proxy_pass $gitlab;
      proxy_http_version 1.1;
      proxy_set_header Authorization "$basic";
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
NGINX
  start_bg nginx-git /usr/sbin/nginx -c "$ndir/nginx.conf" -p "$ndir" -g 'daemon off;'
  local nginx_pid=$LAST_PID

  local pport proxy_pid="" i ways=(direct nginx)
  if [ "$HAVE_GIT_PROXY" = 1 ]; then
    start_bg git-proxy env KEYBRIDGE_URL="$KB_URL" KEYBRIDGE_TOKEN="$session" \
      "$KEYBRIDGE" --log-format json git-proxy --listen 127.0.0.1:0
    proxy_pid=$LAST_PID
    local ready; ready=$(first_line "$WORK/git-proxy.out" "$proxy_pid")
    pport=${ready##*:}
    ways+=(proxy)
  fi
  for i in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$nport/" && break
    sleep 0.1
  done

  : >"$WORK/git.times"
  local way
  # Two rounds, the ways interleaved, and the faster of the two counts: the first clone of a
  # round may pay for cold page cache, and other work on the machine comes and goes.
  local round
  for round in 1 2; do
    for way in "${ways[@]}"; do
      local url extra=()
      case $way in
        direct) url=$gitlab; extra=(-c "http.extraHeader=Authorization: $basic") ;;
        nginx) url="http://127.0.0.1:$nport" ;;
        proxy) url="http://127.0.0.1:$pport/p000" ;;
      esac
      rm -rf "$WORK/clone-$way.git"
      log "git proxy: clone and push, $way, round $round"
      git_timed "clone-$way" "${extra[@]}" clone --quiet --bare "$url/bench/big.git" \
        "$WORK/clone-$way.git"
      local perf_pid=""
      if [ -n "${BENCH_PERF:-}" ] && [ "$way" = proxy ] && [ "$round" = 1 ]; then
        # BENCH_PERF=1: profile the git-proxy during its first push (docs/benchmarks.md).
        perf record -F 999 -g -p "$proxy_pid" -o "$WORK/perf-git-proxy-push.data" >/dev/null 2>&1 &
        perf_pid=$!
      fi
      git_timed "push-$way" "${extra[@]}" -C "$WORK/clone-$way.git" push --quiet \
        "$url/bench/push-$way-$round.git" main
      if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
    done
  done
  local rss_kb=0
  if [ -n "$proxy_pid" ]; then
    rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$proxy_pid/status" 2>/dev/null || echo 0)
    stop_pid "$proxy_pid"
  fi
  stop_pid "$nginx_pid"
  stop_keybridge
  stop_pid "$pid"
  cat "$WORK/git.times" >>"$WORK/results.raw"
  echo "git-proxy VmHWM_kB $rss_kb" >>"$WORK/results.raw"

  local op
  for op in clone push; do
    local d n p
    d=$(best_time "$op-direct")
    n=$(best_time "$op-nginx")
    p=$(best_time "$op-proxy")
    if [ "$HAVE_GIT_PROXY" != 1 ] && [[ "$d$n" =~ ^[0-9]+$ ]]; then
      row "4 git $op (${GIT_SIZE_MB} MB)" "direct / nginx header-injecting proxy / keybridge git-proxy" \
        "${d} ms / ${n} ms ($(python3 -c "print(f'{$n/$d:.2f}')")x) / not built yet" \
        "git-proxy <= 1.1x direct" "not measured"
      continue
    fi
    if ! [[ "$d$n$p" =~ ^[0-9]+$ ]]; then
      row "4 git $op (${GIT_SIZE_MB} MB)" "direct / nginx / git-proxy" "failed: ${d} / ${n} / ${p} (see git.log)" \
        "git-proxy <= 1.1x direct" "**failed**"
      continue
    fi
    row "4 git $op (${GIT_SIZE_MB} MB)" "direct / nginx header-injecting proxy / keybridge git-proxy" \
      "${d} ms / ${n} ms ($(python3 -c "print(f'{$n/$d:.2f}')")x) / ${p} ms (**$(python3 -c "print(f'{$p/$d:.2f}')")x**)" \
      "git-proxy <= 1.1x direct" "$(verdict "$p <= 1.1 * $d")"
  done
  if [ "$HAVE_GIT_PROXY" = 1 ]; then
    row "4 git proxy" "peak RSS of keybridge git-proxy (VmHWM)" "$((rss_kb / 1024)) MB" "< 30 MB" \
      "$(verdict "$rss_kb < 30 * 1024")"
  fi
}
