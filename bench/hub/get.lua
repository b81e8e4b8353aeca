-- wrk script for bench/run_hub.sh: GETs one path with a TAXII key.
-- Environment: TW_BENCH_KEY (the API key). The path is the URL's.
-- Keep-alive is wrk's default (HTTP/1.1, no Connection: close).
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("TW_BENCH_KEY"), "TW_BENCH_KEY unset")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"

-- Statuses other than 2xx/3xx (wrk counts them), so run_hub.sh can refuse a
-- run that measured errors.
function done(summary, latency, requests)
    io.write(string.format("statuses: %d not 2xx or 3xx, of %d\n", summary.errors.status, summary.requests))
end
