-- wrk script: each connection waits PACE_MS between its requests, so
-- `wrk -c N` offers about N * 1000 / PACE_MS requests a second (wrk's own
-- latency figures leave the wait out). A cookie may be given in COOKIE.
local pace = tonumber(os.getenv("PACE_MS") or "0")
local cookie = os.getenv("COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
function delay()
  return pace
end
