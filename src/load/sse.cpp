#include "trackiq/load/sse.hpp"

#include <limits>
#include <utility>

namespace trackiq::load {

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

SseReader::SseReader(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

SseStatus SseReader::feed(std::string_view bytes, std::int64_t t_ns, std::vector<SseEvent>& out) {
  return feed_impl(
      bytes, t_ns,
      [](void* context, SseEvent& event) {
        static_cast<std::vector<SseEvent>*>(context)->push_back(std::move(event));
      },
      &out);
}

SseStatus SseReader::feed(std::string_view bytes, std::int64_t t_ns,
                          const std::function<void(const SseEvent&)>& on_event) {
  using Callback = std::function<void(const SseEvent&)>;
  const Callback* callback = &on_event;
  return feed_impl(
      bytes, t_ns,
      [](void* context, SseEvent& event) { (**static_cast<const Callback**>(context))(event); },
      &callback);
}

SseStatus SseReader::feed_impl(std::string_view bytes, std::int64_t t_ns, Emit emit,
                               void* context) {
  if (status_ != SseStatus::ok) return status_;
  while (at_stream_start_ && !bytes.empty()) {
    if (bytes.front() == kBom[bom_prefix_.size()]) {
      bom_prefix_.push_back(bytes.front());
      bytes.remove_prefix(1);
      if (bom_prefix_.size() == kBom.size()) {
        bom_prefix_.clear();
        at_stream_start_ = false;
      }
    } else {
      // Not a BOM: the bytes held back so far are ordinary stream bytes.
      at_stream_start_ = false;
      const std::string held = std::exchange(bom_prefix_, std::string());
      consume(held, t_ns, emit, context);
      if (status_ != SseStatus::ok) return status_;
    }
  }
  consume(bytes, t_ns, emit, context);
  return status_;
}

void SseReader::consume(std::string_view in, std::int64_t t_ns, Emit emit, void* context) {
  std::size_t pos = 0;
  const std::size_t n = in.size();
  if (skip_lf_ && n > 0) {
    if (in[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < n) {
    const std::size_t eol = in.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) {
      const std::string_view rest = in.substr(pos);
      if (event_bytes_ + line_.size() + rest.size() > max_event_bytes_) {
        fail_too_large();
        return;
      }
      line_.append(rest);
      return;
    }
    std::size_t next = eol + 1;
    if (in[eol] == '\r') {
      if (next == n) {
        skip_lf_ = true;  // a LF starting the next chunk belongs to this line end
      } else if (in[next] == '\n') {
        ++next;
      }
    }
    const std::string_view piece = in.substr(pos, eol - pos);
    pos = next;
    if (line_.empty()) {
      handle_line(piece, t_ns, emit, context);
    } else {
      if (event_bytes_ + line_.size() + piece.size() > max_event_bytes_) {
        fail_too_large();
        return;
      }
      line_.append(piece);
      handle_line(line_, t_ns, emit, context);  // never a blank line, so never emits
      line_.clear();
    }
    if (status_ != SseStatus::ok) return;
  }
}

void SseReader::handle_line(std::string_view line, std::int64_t t_ns, Emit emit, void* context) {
  if (line.empty()) {
    event_bytes_ = 0;
    if (data_.empty()) {
      event_name_.clear();
      return;
    }
    data_.pop_back();  // the "\n" after the last data line
    scratch_.event = event_name_.empty() ? std::string("message") : event_name_;
    scratch_.data.swap(data_);
    scratch_.id = last_id_;
    scratch_.t_ns = t_ns;
    data_.clear();
    event_name_.clear();
    emit(context, scratch_);
    return;
  }
  if (event_bytes_ + line.size() > max_event_bytes_) {
    fail_too_large();
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  event_bytes_ += line.size();
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    event_name_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (value.empty()) return;
    std::int64_t ms = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      if (ms > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return;  // out of range
      ms = ms * 10 + (c - '0');
    }
    retry_ms_ = ms;
  }
}

void SseReader::fail_too_large() {
  status_ = SseStatus::event_too_large;
  clear_event();
}

void SseReader::clear_event() {
  // Release the memory, not just the contents: the point of the limit is bounded memory.
  std::string().swap(line_);
  std::string().swap(data_);
  event_name_.clear();
  event_bytes_ = 0;
}

SseFinish SseReader::finish() {
  SseFinish f;
  f.status = status_;
  f.discarded_bytes = event_bytes_ + line_.size() + bom_prefix_.size();
  f.discarded_incomplete_event = f.discarded_bytes > 0;
  clear_event();
  status_ = SseStatus::ok;
  at_stream_start_ = true;
  bom_prefix_.clear();
  skip_lf_ = false;
  return f;
}

void SseReader::reset() {
  finish();
  last_id_.clear();
  retry_ms_.reset();
  comments_ = 0;
}

}  // namespace trackiq::load
