-- wrk script: POST one AdmissionReview (the file named by $BODY) to /validate, keep-alive.
local path = os.getenv("BODY") or "crates/webhook/tests/data/deployment-typical.json"
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.path = "/validate"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
