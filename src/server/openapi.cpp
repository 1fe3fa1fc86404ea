// The OpenAPI 3 document of `trackiq serve` (api.hpp: openapi_document()), embedded. Kept true by
// tests/unit/serve_test.cpp, which calls every route listed here and checks the answers.
#include "trackiq/server/api.hpp"

namespace trackiq::server {

std::string_view openapi_document() {
  static constexpr std::string_view kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "TrackIQ results store API",
    "version": "1",
    "description": "trackiq serve: the runs of a TrackIQ store over HTTP. Reads are open to whoever can reach the server (it binds 127.0.0.1 unless --listen says otherwise); every write (POST, DELETE) needs Authorization: Bearer TOKEN with the token of --token-file or TRACKIQ_TOKEN, and without a token writes are disabled (403). Errors are {\"error\": \"what\", \"status\": N}. The GET answers of the read routes (not /metrics, /telemetry or the samples) carry a strong ETag and Cache-Control: no-cache; If-None-Match with that ETag gets 304 Not Modified without a body. Every GET operation here (and /metrics and the dashboard outside /api/v1) also answers HEAD as RFC 9110 asks: the GET's status and headers, Content-Length included, without the body; a 405's Allow header lists HEAD wherever it lists GET (HEAD operations are not repeated per path). With the answer cache on (--cache-mb) they also say X-Cache: hit or miss; an answer is never older than a write that completed before the request."
  },
  "servers": [{"url": "/api/v1"}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {"type": "object", "required": ["error", "status"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
      "RunSummary": {"type": "object", "properties": {
        "run_id": {"type": "string"}, "started_at": {"type": "string"}, "product": {"type": "string"},
        "version": {"type": "string"}, "branch": {"type": "string"}, "commit": {"type": "string"},
        "ci": {"type": "boolean"}, "hardware_fingerprint": {"type": "string"}, "hostname": {"type": "string"},
        "workload": {"type": "string"}, "scenario": {"type": "string"}, "samples": {"type": "integer"}}},
      "Baseline": {"type": "object", "properties": {
        "name": {"type": "string"}, "hardware_fingerprint": {"type": "string"}, "run_id": {"type": "string"},
        "created_at": {"type": "string"}, "product": {"type": "string"}, "version": {"type": "string"}}},
      "Result": {"type": "object", "description": "The canonical result document (docs/result-schema.md, docs/schema/result.schema.json)"},
      "Comparison": {"type": "object", "description": "The comparison of trackiq compare --json: verdict, per-metric change, test, severity and reason"}
    },
    "responses": {
      "BadRequest": {"description": "Malformed JSON, a bad filter or an unknown parameter",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such run, baseline or route",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "A write without the right bearer token",
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "Writes are disabled (no token configured, or --read-only)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "paths": {
    "/runs": {
      "get": {
        "summary": "List runs, newest first, a page at a time",
        "parameters": [
          {"name": "product", "in": "query", "schema": {"type": "string"}, "example": "detector"},
          {"name": "version", "in": "query", "schema": {"type": "string"}, "example": "1.0"},
          {"name": "hardware", "in": "query", "description": "hardware fingerprint or a prefix of it", "schema": {"type": "string"}, "example": "0123"},
          {"name": "label", "in": "query", "description": "KEY=VALUE; repeat for several (all must match)", "schema": {"type": "string"}, "example": "team=vision"},
          {"name": "scenario", "in": "query", "schema": {"type": "string"}, "example": "single-stream"},
          {"name": "since", "in": "query", "description": "started at or after (ISO-8601 UTC)", "schema": {"type": "string"}, "example": "2026-11-01"},
          {"name": "until", "in": "query", "description": "started before (ISO-8601 UTC)", "schema": {"type": "string"}, "example": "2030-01-01"},
          {"name": "limit", "in": "query", "description": "page size, 1 to 1000", "schema": {"type": "integer", "default": 50}, "example": 10},
          {"name": "cursor", "in": "query", "description": "next_cursor of the previous page, as it is", "schema": {"type": "string"}},
          {"name": "q", "in": "query", "description": "free-text search: id, product, version, branch, commit, workload, scenario, hostname or a label key or value containing it (case-insensitive)", "schema": {"type": "string", "maxLength": 200}, "example": "detector"}
        ],
        "responses": {
          "200": {"description": "A page of runs; next_cursor is null on the last page",
                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunSummary"}},
                    "next_cursor": {"type": "string", "nullable": true}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}
        }
      },
      "post": {
        "summary": "Store a result (trackiq run --json), or an array of results; a run id or imported content stored before is refused (409)",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
        "responses": {
          "201": {"description": "Stored; Location names the first run",
                  "content": {"application/json": {"schema": {"type": "object", "properties": {"stored": {"type": "array", "items": {"type": "string"}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"description": "Already stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "413": {"description": "Body over --max-body"}
        }
      }
    },
    "/runs/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "run id or a unique prefix (>= 4 characters)", "schema": {"type": "string"}}],
      "get": {
        "summary": "One run: the canonical result (as trackiq runs show --json; with samples=1 as trackiq runs export)",
        "parameters": [{"name": "samples", "in": "query", "schema": {"type": "boolean", "default": false}, "example": 1}],
        "responses": {
          "200": {"description": "The result", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      },
      "delete": {
        "summary": "Remove the run (its metrics, samples and telemetry). The run of a baseline is refused with 409, naming the baselines, unless with_baselines=true, which removes them too",
        "security": [{"bearer": []}],
        "parameters": [{"name": "with_baselines", "in": "query", "schema": {"type": "boolean", "default": false}, "example": true}],
        "responses": {
          "200": {"description": "Removed", "content": {"application/json": {"schema": {"type": "object", "properties": {"removed": {"type": "string"}}}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"description": "The run is a baseline's", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/runs/{id}/samples": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {
        "summary": "The run's per-request latencies (ns) and completion times: CSV (Accept: text/csv or format=csv) or JSON",
        "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}, "example": "csv"}],
        "responses": {
          "200": {"description": "index,latency_ns,end_ns rows, or {run_id, measured_from, latency_ns, end_ns}",
                  "content": {"text/csv": {}, "application/json": {}}},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/compare": {
      "get": {
        "summary": "Compare two runs as trackiq compare --json does: the same verdicts, tests and reasons (noise band from the baseline's stored series)",
        "parameters": [
          {"name": "base", "in": "query", "required": true, "description": "run id, prefix or baseline name", "schema": {"type": "string"}},
          {"name": "current", "in": "query", "required": true, "description": "run id, prefix or baseline name", "schema": {"type": "string"}},
          {"name": "hardware", "in": "query", "description": "fingerprint for resolving a baseline name", "schema": {"type": "string"}},
          {"name": "history", "in": "query", "description": "runs of the baseline's series for the noise band (0 or 1: none)", "schema": {"type": "integer", "default": 10}, "example": 10},
          {"name": "seed", "in": "query", "description": "bootstrap seed", "schema": {"type": "integer", "default": 42}, "example": 42}
        ],
        "responses": {
          "200": {"description": "The comparison", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Comparison"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/baselines": {
      "get": {
        "summary": "List baselines (per hardware)",
        "responses": {"200": {"description": "Baselines", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "baselines": {"type": "array", "items": {"$ref": "#/components/schemas/Baseline"}}}}}}}}
      },
      "post": {
        "summary": "Save NAME pointing at a run (the newest when run is absent), replacing NAME on that run's hardware",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"],
          "properties": {"name": {"type": "string"}, "run": {"type": "string"}}}}}},
        "responses": {
          "201": {"description": "Saved", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Baseline"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/baselines/{name}": {
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "delete": {
        "summary": "Remove baseline NAME on every hardware, or only on hardware=H",
        "security": [{"bearer": []}],
        "parameters": [{"name": "hardware", "in": "query", "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "How many were removed", "content": {"application/json": {"schema": {"type": "object", "properties": {"removed": {"type": "integer"}}}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/history": {
      "get": {
        "summary": "One metric of one stored series (product, hardware, workload, scenario, configuration), oldest first, with its change points: as trackiq history METRIC --json. Filters that match several series: 400 listing them; run=ID: the series of that run",
        "parameters": [
          {"name": "metric", "in": "query", "required": true, "description": "a metric of the registry (trackiq metrics)", "schema": {"type": "string"}, "example": "latency_p99_ms"},
          {"name": "product", "in": "query", "schema": {"type": "string"}, "example": "detector"},
          {"name": "hardware", "in": "query", "description": "hardware fingerprint or a prefix of it", "schema": {"type": "string"}},
          {"name": "workload", "in": "query", "description": "backend:model", "schema": {"type": "string"}},
          {"name": "scenario", "in": "query", "schema": {"type": "string"}},
          {"name": "config", "in": "query", "description": "the configuration, exactly as a series lists it (batch=8 precision=fp32 device=cpu threads=2 workers=1 ...)", "schema": {"type": "string"}},
          {"name": "run", "in": "query", "description": "a run id (or prefix): the series of that run, instead of the other filters", "schema": {"type": "string"}},
          {"name": "label", "in": "query", "description": "KEY=VALUE; repeat for several", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "metric, unit, better, series, n, points [{index, run_id, started_at, version, commit, value, segment_mean}], change_points [{index, run_id, previous_run_id, before, after, magnitude_pct, direction, p_value, confidence}], detector",
                  "content": {"application/json": {}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/changes": {
      "get": {
        "summary": "Change points of every series of the store (each gating metric), Benjamini-Hochberg across series, newest first, with the runs around each: as trackiq detect --full --json",
        "parameters": [
          {"name": "since", "in": "query", "description": "a date (YYYY-MM-DD[THH:MM[:SS]Z], UTC) or a run id: marks the changes newer than it as new", "schema": {"type": "string"}, "example": "2026-11-01"},
          {"name": "fdr", "in": "query", "description": "false discovery rate, in (0, 1)", "schema": {"type": "number", "default": 0.05}, "example": 0.05}
        ],
        "responses": {
          "200": {"description": "fdr, tests, threshold, series, too_short, since, new_regressions, changes [{series, metric, unit, direction, index, before, after, magnitude_pct, p_value, confidence, new, first_run, runs {before, after}}]",
                  "content": {"application/json": {}}},
          "400": {"$ref": "#/components/responses/BadRequest"}
        }
      }
    },
    "/telemetry": {
      "get": {
        "summary": "Live telemetry of the machine serving (the monitor collectors, sampled every --telemetry-interval, the last --telemetry-window kept)",
        "parameters": [
          {"name": "seconds", "in": "query", "description": "rows of the last this many seconds, 1 to 86400", "schema": {"type": "integer", "default": 300}, "example": 60}
        ],
        "responses": {
          "200": {"description": "interval_s, capacity, rows_taken, now_unix_s, channels [{name, unit}], unavailable, t_unix_s [...], values [[one per channel, null for no reading]]",
                  "content": {"application/json": {}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"description": "Telemetry not available (serve --collectors none)"}
        }
      }
    },
    "/openapi.json": {
      "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {}}}}}
    }
  }
}
)json";
  return kDocument;
}

}  // namespace trackiq::server
