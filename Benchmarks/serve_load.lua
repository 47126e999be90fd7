-- wrk script for Benchmarks/serve_load.sh: POST /v1/search with the dev queries in turn, one
-- query per request (as Benchmarks/serve_load.py sends them), from a C client whose CPU cost is
-- small beside the server's. Prints one JSON line at the end.
--   wrk -t2 -c32 -d20s -s Benchmarks/serve_load.lua http://127.0.0.1:PORT -- QUERIES.tsv
local threads = {}

function setup(thread)
    thread:set("offset", #threads * 7919)
    table.insert(threads, thread)
end

local function quote(text)
    local escaped = text:gsub('[%c"\\]', function(c)
        if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
        return string.format("\\u%04x", c:byte())
    end)
    return '"' .. escaped .. '"'
end

local bodies, next_body = {}, 0

function init(args)
    for line in io.lines(args[1]) do
        local tab = line:find("\t")
        if tab then bodies[#bodies + 1] = '{"query": ' .. quote(line:sub(tab + 1)) .. ', "k": 10, "fields": ["id", "score"]}' end
    end
    next_body = offset or 0
end

function request()
    next_body = next_body + 1
    return wrk.format("POST", "/v1/search", { ["Content-Type"] = "application/json" }, bodies[(next_body % #bodies) + 1])
end

function done(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
    io.write(string.format('{"requests": %d, "seconds": %.3f, "queries_per_second": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d}\n',
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
