// The Python binding of the in-process tracker (issue #15, LIB-4): `import trackiq`.
//
//   import trackiq
//   t = trackiq.Tracker(service="tts", record_window=100000)
//   hits, misses = t.counter("kv_cache_hit"), t.counter("kv_cache_miss")
//   t.ratio("kv_cache_hit_rate", hits, misses)
//   with t.request("req-42") as r:          # an exception escaping marks it failed
//       r.tokens_in = 812
//       with r.phase("forward"):            # phases nest
//           r.first_token(); r.token()
//       hits.inc()
//   t.snapshot()["phases"]["forward"]["p50"]  # ms
//
// Every call maps onto trackiq::tracker (include/trackiq/tracker/tracker.hpp) and keeps its
// definitions; what the binding adds:
// - Lifetimes: every handle (Request, Phase, Counter, Gauge, Histogram) keeps its Tracker alive,
//   a Phase keeps its Request alive, and ending a Request first ends its open phases (innermost
//   first), so no C++ handle outlives what it points to whatever order Python drops them in. A
//   call on an ended request raises RuntimeError instead of touching a finished C++ Request.
// - Speed: the record path's calls (request, phase, __enter__/__exit__, token, first_token,
//   Counter.inc) are plain CPython methods with positional arguments, not pybind11 definitions
//   (see "The record path's fast methods").
// - Threads: each Python thread is an OS thread and records through the C++ per-thread slot of
//   that thread. The GIL is held on the record paths (request, phase, token, counter inc, gauge
//   set, observe): they cost tens of ns in C++, while dropping and retaking the GIL costs more
//   (two atomic exchanges, and a wake-up of a waiting thread) and would let two Python threads
//   use one Request at once, which the C++ API forbids. It is released where C++ does real work
//   (snapshot, records, validate, to_result: merging every slot's histograms), so other Python
//   threads keep recording meanwhile, which is the concurrent reading the tracker is made for.
// - Errors: trackiq::InputError → ValueError, other trackiq::Error → RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "trackiq/server/tracker_exposition.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"
#include "trackiq/tracker/tracker.hpp"

namespace py = pybind11;
namespace tt = trackiq::tracker;

namespace {

// The Tracker and the strings of the histograms declared from Python: MetricDef holds
// string_views, which must live as long as the tracker.
struct PyTracker {
  std::unique_ptr<tt::Tracker> tracker;
  std::deque<std::string> declared;  // appended only, under the GIL
  // attach_sampler()'s sampler (LIB-2). Declared after the tracker, so destroyed (stopped and
  // joined: its thread never takes the GIL) before it.
  std::unique_ptr<trackiq::telemetry::Sampler> sampler;
};

struct PyPhase;

// A request in flight. Used under the GIL only (see the file comment).
struct PyRequest {
  py::object tracker;                  // the PyTracker's Python object: kept alive until the end
  std::optional<tt::Request> request;  // empty once ended
  std::vector<PyPhase*> open;          // phases begun and not ended, outermost first
  std::int64_t tokens_in = 0, tokens_out = -1;  // what was set, for reading back (-1: not set)

  tt::Request& live() {
    if (!request) throw std::runtime_error("trackiq: this request has ended");
    return *request;
  }
  void end();
};

struct PyPhase {
  py::object owner;            // the PyRequest's Python object: keeps it alive while the phase is
  PyRequest* request = nullptr;  // that PyRequest
  std::optional<tt::Phase> phase;

  PyPhase() = default;
  PyPhase(const PyPhase&) = delete;
  PyPhase& operator=(const PyPhase&) = delete;
  ~PyPhase() { end(); }  // a phase dropped without end() ends when collected

  void end() {
    if (!phase) return;
    std::vector<PyPhase*>& open = request->open;
    const auto it = std::find(open.begin(), open.end(), this);
    if (it == open.end()) {  // never registered (its creation failed half-way)
      phase.reset();
      return;
    }
    // Phases end innermost first: ending an outer one ends the ones opened inside it.
    while (open.back() != this) {
      open.back()->phase.reset();
      open.pop_back();
    }
    open.pop_back();
    phase.reset();
  }
};

void PyRequest::end() {
  if (!request) return;
  while (!open.empty()) {
    PyPhase* p = open.back();
    open.pop_back();
    p->phase.reset();
  }
  request.reset();  // Request's destructor ends it
  tracker = py::object();
}

std::string percentile_key(double p) {
  // 50 → "p50", 99.9 → "p99.9"
  std::string s = std::to_string(p);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return "p" + s;
}

py::object optional_ms(const std::optional<std::int64_t>& ns, double scale = 1e-6) {
  if (!ns) return py::none();
  return py::float_(static_cast<double>(*ns) * scale);
}

py::dict distribution(const tt::DistributionStats& d) {
  py::dict out;
  out["count"] = d.count;
  out["mean"] = d.mean;
  out["min"] = d.min;
  out["max"] = d.max;
  for (const trackiq::Percentile& p : d.percentiles) out[py::str(percentile_key(p.p))] = p.value;
  return out;
}

py::object optional_distribution(const std::optional<tt::DistributionStats>& d) {
  if (!d) return py::none();
  return distribution(*d);
}

const char* direction_name(trackiq::Direction d) {
  switch (d) {
    case trackiq::Direction::kLowerIsBetter: return "lower_is_better";
    case trackiq::Direction::kHigherIsBetter: return "higher_is_better";
    case trackiq::Direction::kNeutral: return "neutral";
  }
  return "neutral";
}

trackiq::Direction parse_direction(const std::string& s) {
  if (s == "lower_is_better" || s == "lower") return trackiq::Direction::kLowerIsBetter;
  if (s == "higher_is_better" || s == "higher") return trackiq::Direction::kHigherIsBetter;
  if (s == "neutral") return trackiq::Direction::kNeutral;
  throw trackiq::InputError("direction '" + s + "': use lower_is_better, higher_is_better or neutral");
}

// The snapshot as plain Python types (documented in README, "Instrument your server").
py::dict snapshot_dict(const tt::Snapshot& s) {
  py::dict out;
  out["clock"] = s.clock;
  out["clock_detail"] = s.clock_detail;
  out["uptime_s"] = static_cast<double>(s.uptime_ns) * 1e-9;
  out["requests_started"] = s.requests_started;
  out["requests_completed"] = s.requests_completed;
  out["requests_failed"] = s.requests_failed;
  out["requests_active"] = s.requests_active;
  out["request_rate_per_s"] = s.request_rate_per_s;
  out["error_rate"] = s.error_rate;
  out["errors_per_s"] = s.errors_per_s;
  out["errors_by_class"] = s.errors_by_class;
  out["tokens_in"] = s.tokens_in;
  out["tokens_out"] = s.tokens_out;
  out["output_tokens_per_s"] = s.output_tokens_per_s;
  out["rtf_mean"] = s.rtf_mean ? py::object(py::float_(*s.rtf_mean)) : py::none();
  out["request"] = optional_distribution(s.request);
  out["ttft"] = optional_distribution(s.ttft);
  out["tpot"] = optional_distribution(s.tpot);
  out["itl"] = optional_distribution(s.itl);
  out["e2el"] = optional_distribution(s.e2el);
  py::dict phases;
  for (const auto& [name, d] : s.phases) phases[py::str(name)] = distribution(d);
  out["phases"] = phases;
  out["counters"] = s.counters;
  out["gauges"] = s.gauges;
  out["ratios"] = s.ratios;
  py::dict histograms;
  for (const auto& [name, h] : s.histograms) {
    py::dict d = distribution(h.stats);
    d["unit"] = std::string(h.def.unit);
    d["direction"] = direction_name(h.def.direction);
    d["description"] = std::string(h.def.description);
    histograms[py::str(name)] = d;
  }
  out["histograms"] = histograms;
  out["percentiles"] = s.percentiles;
  const tt::ResourceSnapshot& res = s.resources;
  py::dict resources;
  resources["attached"] = res.attached;
  resources["unavailable"] = res.unavailable.empty() ? py::object(py::none()) : py::object(py::str(res.unavailable));
  resources["requests_attributed"] = res.requests_attributed;
  resources["requests_pending"] = res.requests_pending;
  resources["requests_unattributed"] = res.requests_unattributed;
  resources["throttled_seen"] = res.throttled_seen;
  resources["rows_taken"] = res.rows_taken;
  py::dict distributions;
  for (const auto& [name, d] : res.distributions) {
    py::dict dd;
    dd["count"] = d.count;
    dd["mean"] = d.mean;
    dd["min"] = d.min;
    dd["max"] = d.max;
    for (const trackiq::Percentile& p : d.percentiles) dd[py::str(percentile_key(p.p))] = p.value;
    distributions[py::str(name)] = dd;
  }
  resources["distributions"] = distributions;
  out["resources"] = resources;
  return out;
}

py::object optional_float(const std::optional<double>& v) {
  return v ? py::object(py::float_(*v)) : py::object(py::none());
}

py::object resources_dict(const std::optional<tt::RequestResources>& r) {
  if (!r) return py::none();
  py::dict out;
  out["window_begin_ns"] = r->window_begin_ns;
  out["window_end_ns"] = r->window_end_ns;
  out["samples"] = r->samples;
  out["complete"] = r->complete;
  out["rss_peak_seen_bytes"] = optional_float(r->rss_peak_seen_bytes);
  out["gpu_proc_mem_peak_seen_bytes"] = optional_float(r->gpu_proc_mem_peak_seen_bytes);
  out["gpu_mem_used_peak_seen_bytes"] = optional_float(r->gpu_mem_used_peak_seen_bytes);
  out["temp_peak_seen_c"] = optional_float(r->temp_peak_seen_c);
  out["throttled_seen"] = r->throttled_seen ? py::object(py::bool_(*r->throttled_seen)) : py::object(py::none());
  out["cpu_time_seen_s"] = optional_float(r->cpu_time_seen_s);
  return out;
}

py::dict record_dict(const tt::RequestRecord& r) {
  py::dict out;
  out["id"] = r.id;
  out["begin_ns"] = r.begin_ns;
  out["end_ns"] = r.end_ns;
  out["latency_ms"] = static_cast<double>(r.latency_ns()) * 1e-6;
  out["ok"] = r.ok;
  out["error_class"] = r.ok ? py::object(py::none()) : py::object(py::str(r.error_class));
  out["error_message"] = r.ok ? py::object(py::none()) : py::object(py::str(r.error_message));
  out["ttft_ms"] = optional_ms(r.ttft_ns);
  out["e2el_ms"] = optional_ms(r.e2el_ns);
  out["tpot_ms"] = optional_ms(r.tpot_ps, 1e-9);
  out["tokens_in"] = r.tokens_in;
  out["tokens_out"] = r.tokens_out;
  out["output_duration_s"] = optional_ms(r.output_duration_ns, 1e-9);
  py::list phases;
  for (const tt::PhaseRecord& p : r.phases) {
    py::dict d;
    d["name"] = p.name;
    d["depth"] = p.depth;
    d["duration_ms"] = static_cast<double>(p.duration_ns) * 1e-6;
    phases.append(d);
  }
  out["phases"] = phases;
  out["phases_dropped"] = r.phases_dropped;
  out["resources"] = resources_dict(r.resources);
  return out;
}

tt::Counter counter_of(PyTracker& t, const py::handle& h) {
  if (py::isinstance<py::str>(h)) return t.tracker->counter(h.cast<std::string>());
  return h.cast<tt::Counter>();
}

// ---- The record path's fast methods ----
// pybind11's general dispatcher (overload resolution, argument casters, keyword handling) costs
// about 150–250 ns a call here, against tens of ns for the C++ work; a request with three phases
// and a counter makes 13 calls. The calls on that path are therefore plain CPython methods
// (METH_NOARGS / METH_O / METH_FASTCALL, positional arguments only) added to the pybind11
// classes; everything else keeps pybind11's definitions. docs/performance.md §13 has the costs.

// Runs f, turning a C++ exception into the Python error the module's translators would give.
template <class F>
PyObject* guarded(F&& f) noexcept {
  try {
    return f();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const trackiq::InputError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "trackiq: unknown C++ exception");
  }
  return nullptr;
}

std::string_view utf8_arg(PyObject* o, const char* what) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &n) : nullptr;
  if (p == nullptr) {
    if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s must be a str", what);
    throw py::error_already_set();
  }
  return {p, static_cast<std::size_t>(n)};
}

// The optional integer argument of token(n), first_token(n), inc(n): 1 when absent.
std::int64_t count_arg(PyObject* const* args, Py_ssize_t nargs, const char* name) {
  if (nargs > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
    throw py::error_already_set();
  }
  if (nargs == 0) return 1;
  const long long v = PyLong_AsLongLong(args[0]);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

PyObject* self_return(PyObject* self, PyObject*) {
  Py_INCREF(self);
  return self;
}

PyObject* request_exit(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return guarded([&]() -> PyObject* {
    PyRequest& r = py::handle(self).cast<PyRequest&>();
    if (nargs >= 2 && args[0] != Py_None && r.request) {
      // An exception escaped the block: the request fails with the exception's type as class.
      const std::string cls = py::handle(args[0]).attr("__name__").cast<std::string>();
      r.request->fail(py::str(args[1]).cast<std::string>(), cls);
    }
    r.end();
    Py_RETURN_FALSE;  // the exception propagates
  });
}

PyObject* request_phase(PyObject* self, PyObject* name) {
  return guarded([&]() -> PyObject* {
    PyRequest& r = py::handle(self).cast<PyRequest&>();
    tt::Request& req = r.live();
    const std::string_view n = utf8_arg(name, "phase name");
    auto p = std::make_unique<PyPhase>();
    p->owner = py::reinterpret_borrow<py::object>(self);
    p->request = &r;
    p->phase.emplace(req.phase(n));
    PyPhase* raw = p.get();
    py::object out = py::cast(std::move(p));
    r.open.push_back(raw);  // after the cast: a failed cast must not leave a dangling entry
    return out.release().ptr();
  });
}

PyObject* request_token(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return guarded([&]() -> PyObject* {
    const std::int64_t n = count_arg(args, nargs, "token");
    py::handle(self).cast<PyRequest&>().live().token(n);
    Py_RETURN_NONE;
  });
}

PyObject* request_first_token(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return guarded([&]() -> PyObject* {
    const std::int64_t n = count_arg(args, nargs, "first_token");
    py::handle(self).cast<PyRequest&>().live().first_token(n);
    Py_RETURN_NONE;
  });
}

PyObject* phase_exit(PyObject* self, PyObject* const*, Py_ssize_t) {
  return guarded([&]() -> PyObject* {
    py::handle(self).cast<PyPhase&>().end();
    Py_RETURN_FALSE;
  });
}

PyObject* phase_end(PyObject* self, PyObject*) {
  return guarded([&]() -> PyObject* {
    py::handle(self).cast<PyPhase&>().end();
    Py_RETURN_NONE;
  });
}

PyObject* counter_inc(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return guarded([&]() -> PyObject* {
    const std::int64_t n = count_arg(args, nargs, "inc");
    py::handle(self).cast<tt::Counter&>().inc(n);
    Py_RETURN_NONE;
  });
}

PyObject* tracker_request(PyObject* self, PyObject* id) {
  return guarded([&]() -> PyObject* {
    const std::string_view i = utf8_arg(id, "request id");
    auto r = std::make_unique<PyRequest>();
    r->request.emplace(py::handle(self).cast<PyTracker&>().tracker->begin_request(i));
    r->tracker = py::reinterpret_borrow<py::object>(self);  // cheaper than py::keep_alive's patient list
    return py::cast(std::move(r)).release().ptr();
  });
}

// Adds a CPython method to a pybind11 class. The PyMethodDef must outlive the module: static.
void add_method(const py::handle& cls, PyMethodDef* def) {
  PyObject* descr = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), def);
  if (descr == nullptr) throw py::error_already_set();
  if (PyObject_SetAttrString(cls.ptr(), def->ml_name, descr) != 0) {
    Py_DECREF(descr);
    throw py::error_already_set();
  }
  Py_DECREF(descr);
}

template <class F>
PyCFunction as_cfunction(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

}  // namespace

PYBIND11_MODULE(trackiq, m) {
  m.doc() = "TrackIQ's in-process tracker: time an inference server's requests, phases and tokens "
            "(the C++ trackiq::tracker::Tracker).";
  m.attr("__version__") = TRACKIQ_VERSION;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const trackiq::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const trackiq::NotAvailableError& e) {  // e.g. serve() on a port in use
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  py::class_<tt::Counter> counter(m, "Counter", "A counter of a Tracker (Tracker.counter(name)).");

  py::class_<tt::Gauge>(m, "Gauge", "A gauge of a Tracker (Tracker.gauge(name)); the last set() wins.")
      .def("set", &tt::Gauge::set, py::arg("value"))
      .def_property_readonly("value", &tt::Gauge::value);

  py::class_<tt::ValueHistogram>(m, "Histogram",
                                 "A value histogram of a Tracker (Tracker.histogram(...)): integers in its unit.")
      .def("observe", &tt::ValueHistogram::observe, py::arg("value"));

  py::class_<PyPhase> phase(m, "Phase", "A timed phase of a request, from Request.phase(name) to its end.");

  py::class_<PyRequest> request(m, "Request",
                        "One request in flight (Tracker.request(id)). It ends at the end of its `with` block "
                        "or at end(); an exception escaping the block marks it failed with the exception's "
                        "type name as the error class.");
  request.def("end", &PyRequest::end, "Ends the request now (open phases first); later calls do nothing.")
      .def_property(
          "tokens_in", [](const PyRequest& r) { return r.tokens_in; },
          [](PyRequest& r, std::int64_t n) {
            r.live().tokens_in(n);
            r.tokens_in = n;
          },
          "Input tokens (0 until set).")
      .def_property(
          "tokens_out", [](const PyRequest& r) -> py::object { return r.tokens_out < 0 ? py::object(py::none()) : py::int_(r.tokens_out); },
          [](PyRequest& r, std::int64_t n) {
            r.live().tokens_out(n);
            r.tokens_out = n;
          },
          "Output tokens as the server counts them (None until set: the output events' sum is used).")
      .def(
          "output_duration",
          [](PyRequest& r, double seconds) {
            if (!std::isfinite(seconds) || seconds < 0)
              throw trackiq::InputError("output_duration " + std::to_string(seconds) + ": seconds must be finite and >= 0");
            r.live().output_duration_ns(std::llround(seconds * 1e9));
          },
          py::arg("seconds"), "Duration of the produced output (audio, video) for the real-time factor.")
      .def(
          "fail",
          [](PyRequest& r, const std::string& message, const std::string& error_class) {
            r.live().fail(message, error_class);
          },
          py::arg("message"), py::arg("error_class") = "error", "Marks the request failed (the first failure is kept).")
      .def_property_readonly("ended", [](const PyRequest& r) { return !r.request.has_value(); });

  // Before Tracker, so that Tracker.serve's signature names it as Python sees it.
  py::class_<trackiq::server::TrackerServer>(m, "MetricsServer",
                                              "A tracker's /metrics, /metrics/summary and /metrics/export over HTTP.")
      .def_property_readonly("address", &trackiq::server::TrackerServer::address, "HOST:PORT as bound.")
      .def("stop", [](trackiq::server::TrackerServer& s) {
        py::gil_scoped_release unlocked;  // joins the server's threads
        s.stop();
      })
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](trackiq::server::TrackerServer& s, py::args) {
        py::gil_scoped_release unlocked;
        s.stop();
        return false;
      });

  py::class_<PyTracker> tracker(m, "Tracker",
                        "Tracks one service's requests. Every method may be called from any Python thread.");
  tracker.def(py::init([](const std::string& service, std::size_t record_window, int significant_digits,
                       std::optional<std::vector<double>> percentiles) {
             tt::TrackerOptions o;
             o.service = service;
             if (record_window == 0) throw trackiq::InputError("record_window 0: keep at least 1 record");
             o.record_window = record_window;
             o.significant_digits = significant_digits;
             if (percentiles) o.percentiles = *percentiles;
             auto t = std::make_unique<PyTracker>();
             t->tracker = std::make_unique<tt::Tracker>(std::move(o));
             return t;
           }),
           py::kw_only(), py::arg("service") = "service", py::arg("record_window") = 100'000,
           py::arg("significant_digits") = 3, py::arg("percentiles") = py::none())
      .def(
          "counter", [](PyTracker& t, const std::string& name) { return t.tracker->counter(name); }, py::arg("name"),
          py::keep_alive<0, 1>(), "The counter of this name (made on first use): .inc(n=1); its total is in snapshot().")
      .def(
          "gauge", [](PyTracker& t, const std::string& name) { return t.tracker->gauge(name); }, py::arg("name"),
          py::keep_alive<0, 1>(), "The gauge of this name (made on first use): .set(v), .value; the last set() wins.")
      .def(
          "histogram",
          [](PyTracker& t, const std::string& name, std::optional<std::string> unit, const std::string& direction,
             const std::string& description, std::int64_t lowest, std::int64_t highest, int significant_digits) {
            if (!unit) return t.tracker->histogram(name);  // a metric-registry name
            t.declared.push_back(name);
            const std::string& n = t.declared.back();
            t.declared.push_back(*unit);
            const std::string& u = t.declared.back();
            t.declared.push_back(description);
            const std::string& d = t.declared.back();
            trackiq::MetricDef def{n, u, parse_direction(direction), d};
            return t.tracker->histogram(def, lowest, highest, significant_digits);
          },
          py::arg("name"), py::arg("unit") = py::none(), py::arg("direction") = "neutral",
          py::arg("description") = "", py::arg("lowest") = 1, py::arg("highest") = std::int64_t{1} << 40,
          py::arg("significant_digits") = 3, py::keep_alive<0, 1>(),
          "A value histogram: a metric-registry name alone, or a declared one with unit (and direction, "
          "description, range).")
      .def(
          "ratio",
          [](PyTracker& t, const std::string& name, const py::object& a, const py::object& b) {
            t.tracker->ratio(name, counter_of(t, a), counter_of(t, b));
          },
          py::arg("name"), py::arg("a"), py::arg("b"),
          "Reports name = a / (a + b) in the snapshot; a and b are Counters or counter names.")
      // GIL released while C++ merges the slots; the dict is built after, under the GIL.
      .def("snapshot",
           [](const PyTracker& t) {
             tt::Snapshot s;
             {
               py::gil_scoped_release unlocked;
               s = t.tracker->snapshot();
             }
             return snapshot_dict(s);
           },
           "Everything so far as a dict: per-phase and per-histogram percentiles, counters, gauges, ratios, "
           "errors by class, the clock used and, with a sampler attached, per-request resources.")
      .def("records",
           [](const PyTracker& t) {
             std::vector<tt::RequestRecord> rs;
             {
               py::gil_scoped_release unlocked;
               rs = t.tracker->records();
             }
             py::list out;
             for (const auto& r : rs) out.append(record_dict(r));
             return out;
           },
           "The last record_window finished requests, oldest first (by end time), each a dict.")
      .def("validate",
           [](const PyTracker& t) {
             py::gil_scoped_release unlocked;
             return t.tracker->validate();
           })
      .def(
          "to_result_json",
          [](const PyTracker& t, int indent) {
            py::gil_scoped_release unlocked;
            return trackiq::to_json(t.tracker->to_result(), indent);
          },
          py::arg("indent") = 2, "The canonical result (docs/schema/result.schema.json) as JSON text.")
      .def(
          "to_result",
          [](const PyTracker& t) {
            std::string text;
            {
              py::gil_scoped_release unlocked;
              text = trackiq::to_json(t.tracker->to_result(), -1);
            }
            return py::module_::import("json").attr("loads")(text);
          },
          "The canonical result as a dict (json.loads of to_result_json()).")
      .def(
          "serve",
          [](const PyTracker& t, const std::string& listen, unsigned threads) {
            py::gil_scoped_release unlocked;  // binding and starting the server's threads
            return trackiq::server::serve(*t.tracker, listen, threads);
          },
          py::arg("listen") = "127.0.0.1:9102", py::arg("threads") = 1,
          py::keep_alive<0, 1>(),  // the server reads the tracker: it keeps the tracker alive
          "Serves /metrics (Prometheus text, or OpenMetrics when the scrape asks), /metrics/summary and "
          "/metrics/export on HOST:PORT (port 0: a free one) from the server's own threads; returns a "
          "MetricsServer (its .address; .stop(), or a with block, or dropping it stops it).")
      .def(
          "attach_sampler",
          [](PyTracker& t, const py::object& collectors, double interval_s) {
            if (t.sampler) throw trackiq::InputError("attach_sampler: a sampler is already attached (one per tracker)");
            if (!(interval_s > 0)) throw trackiq::InputError("interval_s must be > 0");
            std::vector<std::string> names;
            if (py::isinstance<py::str>(collectors))
              names.push_back(collectors.cast<std::string>());
            else
              names = collectors.cast<std::vector<std::string>>();
            py::gil_scoped_release unlocked;  // reading /proc, loading NVML, starting the thread
            trackiq::telemetry::SamplerOptions so;
            so.interval_ns = static_cast<std::int64_t>(std::llround(interval_s * 1e9));
            so.max_rows = 0;  // the tracker keeps its own ring of rows; the sampler keeps none
            auto sampler = std::make_unique<trackiq::telemetry::Sampler>(
                trackiq::telemetry::make_collectors(names, {}), std::move(so));
            t.tracker->attach(*sampler);
            sampler->start();
            t.sampler = std::move(sampler);
            return t.sampler->unavailable();
          },
          py::arg("collectors") = std::vector<std::string>{"process", "nvml", "thermal"}, py::arg("interval_s") = 0.1,
          "Per-request resources (LIB-2): starts a telemetry sampler (collector names, or \"all\") every "
          "interval_s on its own thread, owned by this tracker, and attaches it: records() and snapshot() then "
          "carry what it saw during each request. Returns the collectors left out ('name: not available: why'). "
          "Once per tracker; stop_sampler() (or dropping the tracker) stops it.")
      .def(
          "stop_sampler",
          [](PyTracker& t) {
            if (!t.sampler) return;
            py::gil_scoped_release unlocked;  // joins the sampler's thread
            t.sampler->stop();
          },
          "Stops attach_sampler()'s sampler (the rows taken stay); it cannot be started again.")
      .def_property_readonly("service", [](const PyTracker& t) { return t.tracker->options().service; })
      .def_property_readonly("record_window", [](const PyTracker& t) { return t.tracker->options().record_window; });

  // The record path (see "The record path's fast methods" above).
  static PyMethodDef kRequestMethods[] = {
      {"__enter__", self_return, METH_NOARGS, "Returns the request."},
      {"__exit__", as_cfunction(request_exit), METH_FASTCALL,
       "Ends the request; an exception escaping the block marks it failed with its type's name as class."},
      {"phase", request_phase, METH_O, "phase(name): begins a phase now; use it as `with r.phase(\"forward\"):`."},
      {"token", as_cfunction(request_token), METH_FASTCALL,
       "token(n=1): one output event now carrying n tokens (0: unknown, counted as 1)."},
      {"first_token", as_cfunction(request_first_token), METH_FASTCALL,
       "first_token(n=1): the first output event now (ignored after the first)."},
  };
  static PyMethodDef kPhaseMethods[] = {
      {"__enter__", self_return, METH_NOARGS, "Returns the phase."},
      {"__exit__", as_cfunction(phase_exit), METH_FASTCALL, "Ends the phase."},
      {"end", phase_end, METH_NOARGS, "Ends the phase (and any phase opened inside it); later calls do nothing."},
  };
  static PyMethodDef kCounterInc = {"inc", as_cfunction(counter_inc), METH_FASTCALL, "inc(n=1): adds n."};
  static PyMethodDef kTrackerRequest = {"request", tracker_request, METH_O,
                                        "request(id): begins a request now; use it as `with t.request(\"id\") as r:`."};
  for (PyMethodDef& d : kRequestMethods) add_method(request, &d);
  for (PyMethodDef& d : kPhaseMethods) add_method(phase, &d);
  add_method(counter, &kCounterInc);
  add_method(tracker, &kTrackerRequest);
}
