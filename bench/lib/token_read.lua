-- wrk script: GET /api/data/oauth2/connections/{id}/token with a bearer credential, choosing a
-- random (credential, connection id) pair per request from the TSV file named by BENCH_PAIRS
-- (one "credential<TAB>connection id" line each). Against nginx (BENCH_STATIC=1) it requests
-- the static file with the same header, so both servers parse the same request.
local pairs_list = {}
local static = os.getenv("BENCH_STATIC") == "1"

function init(args)
  for line in io.lines(os.getenv("BENCH_PAIRS")) do
    local credential, id = line:match("^([^\t]+)\t([^\t]+)$")
    if credential then
      pairs_list[#pairs_list + 1] = { credential, id }
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local p = pairs_list[math.random(#pairs_list)]
  local path = static and "/token.json" or ("/api/data/oauth2/connections/" .. p[2] .. "/token")
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. p[1] })
end
