-- wrk script: POST the JSON body in the file named by $BODY to /v1/predict; count non-200s.
local file = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
