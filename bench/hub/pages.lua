-- wrk script for bench/run_hub.sh: 100-object pages of a collection.
--
-- Environment:
--   TW_BENCH_KEY         the API key (a reader in the collection's audience)
--   TW_BENCH_PAGE_PATH   /api/collections/<alias>/objects/
--   TW_BENCH_PAGE_MODE   walk: each wrk thread follows the `next` cursors of
--                          the responses from the first page to the last, then
--                          starts again (the connections of one thread share
--                          its cursor, so a page may be asked for twice);
--                        random: pages start at positions drawn uniformly over
--                          the collection;
--                        deep: pages start at positions drawn from the last
--                          TW_BENCH_PAGE_DEEP objects (default 10,000), i.e.
--                          the last hundred pages.
--   TW_BENCH_PAGE_TABLE  (random, deep) the collection's bulk adds in order,
--                        one line each: "DATE_HEX FIRST_SEQ COUNT" (every
--                        object of one add shares its date_added, and its
--                        seqs are consecutive); run_hub.sh writes it.
--   TW_BENCH_PAGE_LIMIT  page size (default 100)
--
-- A position p is turned into the cursor the hub itself would have issued
-- after object p - 1: "DATE_HEX.SEQ_HEX" of that object (taxii_req.c).
local key = assert(os.getenv("TW_BENCH_KEY"), "TW_BENCH_KEY unset")
local path = assert(os.getenv("TW_BENCH_PAGE_PATH"), "TW_BENCH_PAGE_PATH unset")
local mode = os.getenv("TW_BENCH_PAGE_MODE") or "walk"
local limit = tonumber(os.getenv("TW_BENCH_PAGE_LIMIT") or "100")
local deep = tonumber(os.getenv("TW_BENCH_PAGE_DEEP") or "10000")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Accept"] = "application/taxii+json;version=2.1"

local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
end

local adds = {} -- { date = hex string, first = seq, n = count, start = position }
local total = 0
local cursor = nil

function init(args)
    math.randomseed(os.time() * 100 + (tid or 0))
    if mode == "walk" then
        return
    end
    local name = assert(os.getenv("TW_BENCH_PAGE_TABLE"), "TW_BENCH_PAGE_TABLE unset")
    local f = assert(io.open(name, "r"))
    for line in f:lines() do
        local d, s, n = line:match("^(%x+) (%d+) (%d+)$")
        if d then
            adds[#adds + 1] = { date = d, first = tonumber(s), n = tonumber(n), start = total }
            total = total + tonumber(n)
        end
    end
    f:close()
    assert(total > limit, "the page table holds too few objects")
end

-- The cursor that starts a page at position p (0-based over the collection).
local function cursor_at(p)
    local lo, hi = 1, #adds
    while lo < hi do -- the last add whose start <= p
        local mid = math.floor((lo + hi + 1) / 2)
        if adds[mid].start <= p then lo = mid else hi = mid - 1 end
    end
    local a = adds[lo]
    return string.format("%s.%x", a.date, a.first + (p - a.start) - 1)
end

function request()
    local q = "?limit=" .. limit
    if mode == "walk" then
        if cursor then
            q = q .. "&next=" .. cursor
        end
    else
        local span = total - limit -- every page is full
        local lo = 0
        if mode == "deep" then
            lo = math.max(0, span - deep)
        end
        q = q .. "&next=" .. cursor_at(lo + math.random(0, span - lo))
    end
    return wrk.format(nil, path .. q)
end

function response(status, headers, body)
    if status ~= 200 or mode ~= "walk" then
        return
    end
    -- "next" comes right after "more" at the head of the envelope; none on the last page.
    cursor = body:sub(1, 200):match('"next":"([%x.]+)"')
end

function done(summary, latency, requests)
    io.write(string.format("statuses: %d not 2xx or 3xx, of %d\n", summary.errors.status, summary.requests))
end
