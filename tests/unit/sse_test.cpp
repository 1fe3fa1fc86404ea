#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/load/openai_stream.hpp"
#include "trackiq/load/sse.hpp"

namespace trackiq::load {
namespace {

using Events = std::vector<SseEvent>;

SseEvent ev(std::string data, std::string event = "message", std::string id = "",
            std::int64_t t_ns = 1) {
  SseEvent e;
  e.event = std::move(event);
  e.data = std::move(data);
  e.id = std::move(id);
  e.t_ns = t_ns;
  return e;
}

// The stream in one feed at t = 1, then finish().
Events feed_whole(std::string_view stream, SseFinish* finish = nullptr,
                  std::size_t limit = SseReader::kDefaultMaxEventBytes) {
  SseReader reader(limit);
  Events out;
  reader.feed(stream, 1, out);
  const SseFinish f = reader.finish();
  if (finish) *finish = f;
  return out;
}

// The stream cut at `cuts` (ascending offsets), every piece fed at t = 1, then finish().
Events feed_pieces(std::string_view stream, const std::vector<std::size_t>& cuts,
                   SseFinish* finish = nullptr,
                   std::size_t limit = SseReader::kDefaultMaxEventBytes) {
  SseReader reader(limit);
  Events out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    reader.feed(stream.substr(from, cut - from), 1, out);
    from = cut;
  }
  reader.feed(stream.substr(from), 1, out);
  const SseFinish f = reader.finish();
  if (finish) *finish = f;
  return out;
}

std::string describe(const Events& events) {
  std::string s;
  for (const SseEvent& e : events)
    s += "[" + e.event + "|" + printable_excerpt(e.data) + "|" + e.id + "]";
  return s;
}

// A stream exercising every rule: BOM, comments, event names, ids, multi-line data, all
// three line endings, a field without colon, an event without data, retry.
const std::string kRichStream =
    "\xEF\xBB\xBF"
    ": keep-alive\r\n"
    "retry: 1500\n"
    "event: delta\r\n"
    "id: 41\r\n"
    "data: {\"a\":1}\r\n"
    "data:second line\r\n"
    "\r\n"
    "data\n"
    "\n"
    "event: ignored-no-data\r"
    "\r"
    "data: cr only\rdata:  two spaces\r\r"
    "id\n"
    "data: [DONE]\n"
    "\n";

const Events kRichEvents = {
    ev("{\"a\":1}\nsecond line", "delta", "41"),
    ev("", "message", "41"),
    ev("cr only\n two spaces", "message", "41"),
    ev("[DONE]", "message", ""),
};

TEST(SseReader, OneEventEndsAtABlankLine) {
  EXPECT_EQ(feed_whole("data: hello\n\n"), Events{ev("hello")});
  EXPECT_EQ(feed_whole("data: hello\n"), Events{});  // no blank line yet
}

TEST(SseReader, AcceptsLfCrlfAndLoneCrLineEndings) {
  EXPECT_EQ(feed_whole("data: a\n\n"), Events{ev("a")});
  EXPECT_EQ(feed_whole("data: a\r\n\r\n"), Events{ev("a")});
  EXPECT_EQ(feed_whole("data: a\r\r"), Events{ev("a")});
  EXPECT_EQ(feed_whole("data: a\r\ndata: b\rdata: c\n\r\n"), Events{ev("a\nb\nc")});
}

TEST(SseReader, CrlfSplitBetweenCrAndLfIsOneLineEnd) {
  // Were the LF read as a second line end, "a" and "b" would be two events.
  EXPECT_EQ(feed_pieces("data: a\r\ndata: b\r\n\r\n", {8}), Events{ev("a\nb")});
  // An empty feed in between keeps the pending CR.
  SseReader reader;
  Events out;
  reader.feed("data: a\r", 1, out);
  reader.feed("", 2, out);
  reader.feed("\ndata: b\n\n", 3, out);
  EXPECT_EQ(out, Events{ev("a\nb", "message", "", 3)});
}

TEST(SseReader, EverySplitPositionOfEveryCrlfGivesTheSameEvents) {
  const std::string stream = "data: a\r\ndata: b\r\n\r\nevent: e\r\ndata: c\r\n\r\n";
  const Events whole = feed_whole(stream);
  ASSERT_EQ(whole, (Events{ev("a\nb"), ev("c", "e")}));
  for (std::size_t i = 0; i + 1 < stream.size(); ++i) {
    if (stream[i] != '\r') continue;
    for (std::size_t cut : {i, i + 1, i + 2})
      EXPECT_EQ(feed_pieces(stream, {cut}), whole) << "cut at " << cut;
  }
}

TEST(SseReader, JoinsMultipleDataLinesWithNewlines) {
  EXPECT_EQ(feed_whole("data: a\ndata: b\ndata:\ndata: c\n\n"), Events{ev("a\nb\n\nc")});
}

TEST(SseReader, SkipsCommentLinesAndCountsThem) {
  SseReader reader;
  Events out;
  reader.feed(": ping\n\n:\n: another\ndata: x\n: inside\n\n", 1, out);
  EXPECT_EQ(out, Events{ev("x")});
  EXPECT_EQ(reader.comments(), 4u);
}

TEST(SseReader, EventFieldNamesTheEventUntilItIsDispatched) {
  EXPECT_EQ(feed_whole("event: update\ndata: 1\n\ndata: 2\n\n"),
            (Events{ev("1", "update"), ev("2", "message")}));
  EXPECT_EQ(feed_whole("event:\ndata: 1\n\n"), Events{ev("1", "message")});
}

TEST(SseReader, StripsExactlyOneSpaceAfterTheColon) {
  EXPECT_EQ(feed_whole("data:x\n\n"), Events{ev("x")});
  EXPECT_EQ(feed_whole("data: x\n\n"), Events{ev("x")});
  EXPECT_EQ(feed_whole("data:  x \n\n"), Events{ev(" x ")});
  EXPECT_EQ(feed_whole("data:\tx\n\n"), Events{ev("\tx")});
}

TEST(SseReader, FieldWithoutColonHasAnEmptyValue) {
  EXPECT_EQ(feed_whole("data\n\n"), Events{ev("")});
  EXPECT_EQ(feed_whole("data\ndata\n\n"), Events{ev("\n")});
  EXPECT_EQ(feed_whole("event\ndata: x\n\n"), Events{ev("x")});
}

TEST(SseReader, IgnoresUnknownFields) {
  EXPECT_EQ(feed_whole("foo: bar\ndata: x\nDATA: y\ndata : z\n\n"), Events{ev("x")});
}

TEST(SseReader, EventWithoutDataIsNotDispatchedButItsIdIsKept) {
  SseReader reader;
  Events out;
  reader.feed("event: x\n\nid: 3\n\n", 1, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(reader.last_event_id(), "3");
  reader.feed("data: y\n\n", 2, out);
  EXPECT_EQ(out, Events{ev("y", "message", "3", 2)});
}

TEST(SseReader, LastEventIdPersistsAcrossEventsAndIgnoresNul) {
  EXPECT_EQ(feed_whole("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"),
            (Events{ev("a", "message", "7"), ev("b", "message", "7"), ev("c", "message", "")}));
  using namespace std::string_view_literals;
  EXPECT_EQ(feed_whole("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"sv),
            (Events{ev("a", "message", "1"), ev("b", "message", "1")}));
}

TEST(SseReader, RetryTakesOnlyAsciiDigits) {
  SseReader reader;
  Events out;
  reader.feed("retry: 3000\n\n", 1, out);
  EXPECT_EQ(reader.retry_ms(), 3000);
  reader.feed("retry: 5s\nretry:\nretry: -1\nretry: 99999999999999999999999\n\n", 1, out);
  EXPECT_EQ(reader.retry_ms(), 3000);
  EXPECT_TRUE(out.empty());
}

TEST(SseReader, DropsAByteOrderMarkAtStreamStartOnly) {
  EXPECT_EQ(feed_whole("\xEF\xBB\xBF"
                       "data: a\n\n"),
            Events{ev("a")});
  // Split inside the BOM.
  EXPECT_EQ(feed_pieces("\xEF\xBB\xBF"
                        "data: a\n\n",
                        {1, 2, 3}),
            Events{ev("a")});
  // A second BOM is part of the field name, which is then unknown.
  EXPECT_EQ(feed_whole("\xEF\xBB\xBF"
                       "data: a\n\n\xEF\xBB\xBF"
                       "data: b\n\n"),
            Events{ev("a")});
  EXPECT_EQ(feed_whole("\xEF\xBB\xBF\xEF\xBB\xBF"
                       "data: a\n\n"),
            Events{});
  // A BOM prefix that is not a BOM is kept as stream bytes.
  EXPECT_EQ(feed_pieces("\xEF\xBB"
                        "data: a\n\ndata: b\n\n",
                        {1}),
            Events{ev("b")});
  EXPECT_EQ(feed_whole("\xEF\xBB\n\ndata: b\n\n"), Events{ev("b")});
}

TEST(SseReader, StampsEachEventWithTheFeedThatCompletedIt) {
  SseReader reader;
  Events out;
  reader.feed("data: one\n\ndata: tw", 10, out);
  reader.feed("o\n", 20, out);
  reader.feed("\ndata: three\n\ndata: four\n\n", 30, out);
  EXPECT_EQ(out, (Events{ev("one", "message", "", 10), ev("two", "message", "", 30),
                         ev("three", "message", "", 30), ev("four", "message", "", 30)}));
}

TEST(SseReader, CallbackOverloadSeesTheSameEvents) {
  SseReader reader;
  Events seen;
  const auto status =
      reader.feed("data: a\n\ndata: b\n\n", 5, [&](const SseEvent& e) { seen.push_back(e); });
  EXPECT_EQ(status, SseStatus::ok);
  EXPECT_EQ(seen, (Events{ev("a", "message", "", 5), ev("b", "message", "", 5)}));
}

TEST(SseReader, RichStreamGivesTheExpectedEvents) {
  SseReader reader;
  Events out;
  reader.feed(kRichStream, 1, out);
  EXPECT_EQ(out, kRichEvents) << describe(out);
  EXPECT_EQ(reader.retry_ms(), 1500);
  EXPECT_EQ(reader.comments(), 1u);
  EXPECT_FALSE(reader.finish().discarded_incomplete_event);
}

TEST(SseReader, EverySingleSplitOfAMultiEventStreamGivesTheSameEvents) {
  ASSERT_EQ(feed_whole(kRichStream), kRichEvents);
  for (std::size_t cut = 0; cut <= kRichStream.size(); ++cut)
    EXPECT_EQ(feed_pieces(kRichStream, {cut}), kRichEvents) << "cut at " << cut;
}

TEST(SseReader, EveryPairOfSplitsGivesTheSameEvents) {
  for (std::size_t a = 0; a <= kRichStream.size(); ++a)
    for (std::size_t b = a; b <= kRichStream.size(); ++b)
      ASSERT_EQ(feed_pieces(kRichStream, {a, b}), kRichEvents) << "cuts at " << a << ", " << b;
}

TEST(SseReader, ByteByByteFeedingGivesTheSameEvents) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kRichStream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(feed_pieces(kRichStream, cuts), kRichEvents);
}

TEST(SseReader, FinishDiscardsAnIncompleteEventAndReportsIt) {
  SseFinish f;
  EXPECT_EQ(feed_whole("data: a\n\ndata: b\n", &f), Events{ev("a")});
  EXPECT_TRUE(f.discarded_incomplete_event);
  EXPECT_EQ(f.discarded_bytes, 7u);
  EXPECT_EQ(feed_whole("data: a\n\ndata: b", &f), Events{ev("a")});
  EXPECT_TRUE(f.discarded_incomplete_event);
  EXPECT_EQ(f.discarded_bytes, 7u);
  EXPECT_EQ(feed_whole("data: a\n\n: ping\n", &f), Events{ev("a")});
  EXPECT_FALSE(f.discarded_incomplete_event);
  EXPECT_EQ(f.discarded_bytes, 0u);
}

TEST(SseReader, FinishPreparesTheReaderForTheNextStream) {
  SseReader reader;
  Events out;
  reader.feed("id: 9\nretry: 10\ndata: cut", 1, out);
  EXPECT_TRUE(reader.finish().discarded_incomplete_event);
  reader.feed(
      "\xEF\xBB\xBF"
      "data: next\n\n",
      2, out);  // BOM check re-armed, no leftovers
  EXPECT_EQ(out, Events{ev("next", "message", "9", 2)});
  EXPECT_EQ(reader.retry_ms(), 10);
  reader.reset();
  EXPECT_EQ(reader.last_event_id(), "");
  EXPECT_FALSE(reader.retry_ms().has_value());
}

TEST(SseReader, EventAtTheSizeLimitPassesAndOneByteMoreFails) {
  // Limit 16: the line "data: 0123456789" is exactly 16 bytes.
  SseFinish f;
  EXPECT_EQ(feed_whole("data: 0123456789\n\n", &f, 16), Events{ev("0123456789")});
  EXPECT_EQ(f.status, SseStatus::ok);
  EXPECT_EQ(feed_whole("data: 0123456789A\n\n", &f, 16), Events{});
  EXPECT_EQ(f.status, SseStatus::event_too_large);
  // Two lines of one event count together; the blank line starts the count again.
  EXPECT_EQ(feed_whole("data: 0123\ndata: 0123\n\ndata: 0123456789\n\n", &f, 22),
            (Events{ev("0123\n0123"), ev("0123456789")}));
  EXPECT_EQ(f.status, SseStatus::ok);
  EXPECT_EQ(feed_whole("data: 0123\ndata: 01234\n\n", &f, 20), Events{});
  EXPECT_EQ(f.status, SseStatus::event_too_large);
}

TEST(SseReader, SizeLimitDoesNotDependOnHowTheBytesAreSplit) {
  const std::string stream = "data: ok\n\ndata: 0123456789A\n\ndata: never\n\n";
  SseFinish whole_finish;
  const Events whole = feed_whole(stream, &whole_finish, 16);
  EXPECT_EQ(whole, Events{ev("ok")});
  EXPECT_EQ(whole_finish.status, SseStatus::event_too_large);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseFinish f;
    EXPECT_EQ(feed_pieces(stream, {cut}, &f, 16), whole) << "cut at " << cut;
    EXPECT_EQ(f.status, SseStatus::event_too_large) << "cut at " << cut;
  }
}

TEST(SseReader, AnEndlessLineFailsInsteadOfGrowing) {
  SseReader reader(1024);
  Events out;
  const std::string chunk(600, 'x');
  EXPECT_EQ(reader.feed("data: " + chunk, 1, out), SseStatus::ok);
  EXPECT_EQ(reader.feed(chunk, 2, out), SseStatus::event_too_large);
  EXPECT_EQ(reader.feed("\n\ndata: later\n\n", 3, out), SseStatus::event_too_large);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(reader.finish().status, SseStatus::event_too_large);
  EXPECT_EQ(reader.status(), SseStatus::ok);  // ready for a new stream
  reader.feed("data: again\n\n", 4, out);
  EXPECT_EQ(out, Events{ev("again", "message", "", 4)});
}

TEST(SseReader, DefaultLimitIs16MiB) {
  EXPECT_EQ(SseReader().max_event_bytes(), std::size_t{16} * 1024 * 1024);
}

// ---- the OpenAI layer ----

StreamEvent classify(std::string_view data) { return classify_openai_data(data); }

TEST(OpenAiStream, RecognisesDone) {
  EXPECT_EQ(classify("[DONE]").kind, StreamEventKind::done);
  EXPECT_EQ(classify(" [DONE]\n").kind, StreamEventKind::done);
  EXPECT_EQ(classify("[DONE] x").kind, StreamEventKind::malformed);
}

TEST(OpenAiStream, EmptyDataIsNeitherAChunkNorAnError) {
  EXPECT_EQ(classify("").kind, StreamEventKind::empty);
  EXPECT_EQ(classify(" \n").kind, StreamEventKind::empty);
}

TEST(OpenAiStream, ChatContentChunk) {
  const auto e = classify(
      R"({"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null})");
  ASSERT_EQ(e.kind, StreamEventKind::chunk);
  EXPECT_EQ(e.chunk.content, "Hel");
  EXPECT_TRUE(e.chunk.has_output());
  EXPECT_TRUE(e.chunk.has_answer());
  EXPECT_FALSE(e.chunk.role_only());
  EXPECT_FALSE(e.chunk.usage_only());
  EXPECT_FALSE(e.chunk.finish_reason.has_value());
  EXPECT_FALSE(e.chunk.usage.has_value());
}

TEST(OpenAiStream, CompletionsTextChunk) {
  const auto e = classify(
      R"({"object":"text_completion","choices":[{"index":0,"text":" world","finish_reason":null}]})");
  ASSERT_EQ(e.kind, StreamEventKind::chunk);
  EXPECT_EQ(e.chunk.content, " world");
  EXPECT_TRUE(e.chunk.has_output());
}

TEST(OpenAiStream, RoleOnlyFirstChunkHasNoOutput) {
  for (const char* data :
       {R"({"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]})",
        R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})",
        R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]})"}) {
    const auto e = classify(data);
    ASSERT_EQ(e.kind, StreamEventKind::chunk) << data;
    EXPECT_EQ(e.chunk.role, "assistant");
    EXPECT_TRUE(e.chunk.role_only()) << data;
    EXPECT_FALSE(e.chunk.has_output()) << data;
  }
}

TEST(OpenAiStream, EmptyAndFinishChunksHaveNoOutput) {
  const auto empty = classify(R"({"choices":[{"index":0,"delta":{}}]})");
  ASSERT_EQ(empty.kind, StreamEventKind::chunk);
  EXPECT_FALSE(empty.chunk.has_output());
  EXPECT_FALSE(empty.chunk.role_only());
  const auto fin =
      classify(R"({"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]})");
  ASSERT_EQ(fin.kind, StreamEventKind::chunk);
  EXPECT_FALSE(fin.chunk.has_output());
  EXPECT_EQ(fin.chunk.finish_reason, "stop");
}

TEST(OpenAiStream, UsageOnlyChunkInEveryShapeServersSend) {
  for (const char* data :
       {R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})",
        R"({"choices":null,"usage":{"prompt_tokens":12,"completion_tokens":34}})",
        R"({"usage":{"prompt_tokens":12,"completion_tokens":34}})"}) {
    const auto e = classify(data);
    ASSERT_EQ(e.kind, StreamEventKind::chunk) << data;
    EXPECT_TRUE(e.chunk.usage_only()) << data;
    EXPECT_FALSE(e.chunk.has_output());
    ASSERT_TRUE(e.chunk.usage.has_value());
    EXPECT_EQ(e.chunk.usage->prompt_tokens, 12);
    EXPECT_EQ(e.chunk.usage->completion_tokens, 34);
  }
}

TEST(OpenAiStream, ReasoningContentAndReasoningAreOutputButNotAnswer) {
  for (const char* data :
       {R"({"choices":[{"delta":{"reasoning_content":"Let me think"}}]})",
        R"({"choices":[{"delta":{"reasoning":"Let me think","content":null}}]})"}) {
    const auto e = classify(data);
    ASSERT_EQ(e.kind, StreamEventKind::chunk) << data;
    EXPECT_EQ(e.chunk.reasoning, "Let me think");
    EXPECT_TRUE(e.chunk.has_output());
    EXPECT_FALSE(e.chunk.has_answer());
  }
}

TEST(OpenAiStream, ToolCallDeltasCountAsAnswerOutput) {
  const auto e = classify(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"ci"}}]}}]})");
  ASSERT_EQ(e.kind, StreamEventKind::chunk);
  EXPECT_EQ(e.chunk.tool_call_text, "get_weather{\"ci");
  EXPECT_TRUE(e.chunk.has_answer());
}

TEST(OpenAiStream, LogprobsGiveTheChunksTokenCount) {
  const auto chat = classify(
      R"({"choices":[{"delta":{"content":"abc"},"logprobs":{"content":[{"token":"a"},{"token":"b"},{"token":"c"}]}}]})");
  ASSERT_EQ(chat.kind, StreamEventKind::chunk);
  EXPECT_EQ(chat.chunk.tokens, 3);
  const auto completion =
      classify(R"({"choices":[{"text":"ab","logprobs":{"tokens":["a","b"]}}]})");
  ASSERT_EQ(completion.kind, StreamEventKind::chunk);
  EXPECT_EQ(completion.chunk.tokens, 2);
  EXPECT_EQ(classify(R"({"choices":[{"delta":{"content":"a"}}]})").chunk.tokens, 0);
}

TEST(OpenAiStream, ErrorObjectInTheStream) {
  const auto e =
      classify(R"({"error":{"message":"server overloaded","type":"server_error","code":503}})");
  ASSERT_EQ(e.kind, StreamEventKind::error);
  EXPECT_EQ(e.message, "server overloaded (type: server_error, code: 503)");
  const auto plain = classify(R"({"error":"boom"})");
  ASSERT_EQ(plain.kind, StreamEventKind::error);
  EXPECT_EQ(plain.message, "boom");
  // A null error is no error.
  EXPECT_EQ(classify(R"({"error":null,"choices":[]})").kind, StreamEventKind::chunk);
}

TEST(OpenAiStream, VllmStyleErrorResponse) {
  const auto e = classify(
      R"({"object":"error","message":"maximum context length exceeded","type":"BadRequestError","param":null,"code":400})");
  ASSERT_EQ(e.kind, StreamEventKind::error);
  EXPECT_EQ(e.message, "maximum context length exceeded (type: BadRequestError, code: 400)");
}

TEST(OpenAiStream, SseEventNamedErrorIsAServerError) {
  const auto text = classify_openai_event(ev("upstream timed out", "error"));
  ASSERT_EQ(text.kind, StreamEventKind::error);
  EXPECT_EQ(text.message, "upstream timed out");
  const auto json = classify_openai_event(ev(R"({"error":{"message":"quota"}})", "error"));
  ASSERT_EQ(json.kind, StreamEventKind::error);
  EXPECT_EQ(json.message, "quota");
}

TEST(OpenAiStream, MalformedJsonIsClassifiedWithTheOffendingText) {
  const auto e = classify(R"({"choices": [)");
  ASSERT_EQ(e.kind, StreamEventKind::malformed);
  EXPECT_EQ(e.message.rfind("malformed JSON (", 0), 0u) << e.message;
  EXPECT_NE(e.message.find(R"(: {"choices": [)"), std::string::npos) << e.message;
}

TEST(OpenAiStream, MalformedTextIsTruncatedAndMadePrintable) {
  const std::string long_text = "not json " + std::string(1000, 'y');
  const auto e = classify(long_text);
  ASSERT_EQ(e.kind, StreamEventKind::malformed);
  EXPECT_NE(e.message.find("not json yyy"), std::string::npos);
  EXPECT_NE(e.message.find("... (1009 bytes)"), std::string::npos) << e.message;
  EXPECT_LT(e.message.size(), 700u);
  const auto bin = classify(std::string("\x01\xff{", 3));
  ASSERT_EQ(bin.kind, StreamEventKind::malformed);
  EXPECT_NE(bin.message.find("\\x01\\xff{"), std::string::npos) << bin.message;
  for (unsigned char c : bin.message) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << bin.message;
}

TEST(OpenAiStream, WrongTypesAreMalformedAndNameTheField) {
  const auto content = classify(R"({"choices":[{"delta":{"content":5}}]})");
  ASSERT_EQ(content.kind, StreamEventKind::malformed);
  EXPECT_EQ(content.message.rfind("choices[0].delta.content is not a string: ", 0), 0u);
  EXPECT_EQ(classify(R"([1,2])").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"("text")").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"({"choices":{}})").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"({"choices":[1]})").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"({"usage":{"completion_tokens":-1}})").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"({"usage":{"completion_tokens":"3"}})").kind, StreamEventKind::malformed);
  EXPECT_EQ(classify(R"({"usage":[]})").kind, StreamEventKind::malformed);
}

TEST(OpenAiStream, InvalidUtf8InsideJsonIsMalformedNotAnException) {
  const auto e = classify(std::string("{\"choices\":[{\"text\":\"\xC3(\"}]}"));
  EXPECT_EQ(e.kind, StreamEventKind::malformed);
}

TEST(OpenAiStream, DeeplyNestedJsonIsMalformedWithoutExhaustingTheStack) {
  const std::string nested = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(classify(nested).kind, StreamEventKind::malformed);
  const std::string in_chunk = R"({"choices":[{"delta":{"content":"a"},"x":)" + nested + "}]}";
  EXPECT_EQ(classify(in_chunk).kind, StreamEventKind::chunk);
}

TEST(OpenAiStream, PrintableExcerptCutsAtACharacterBoundary) {
  EXPECT_EQ(printable_excerpt("h\xC3\xA9llo", 2), "h... (6 bytes)");
  EXPECT_EQ(printable_excerpt("h\xC3\xA9llo", 3), "h\xC3\xA9... (6 bytes)");
  EXPECT_EQ(printable_excerpt("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable_excerpt("short"), "short");
}

TEST(OpenAiStream, AVllmStreamThroughTheReader) {
  const std::string stream =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      ": ping\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" "
      "there\"},\"finish_reason\":\"stop\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  SseReader reader;
  Events events;
  reader.feed(stream, 1, events);
  ASSERT_EQ(events.size(), 5u);
  std::vector<StreamEvent> c;
  for (const SseEvent& e : events) c.push_back(classify_openai_event(e));
  EXPECT_TRUE(c[0].chunk.role_only());
  EXPECT_EQ(c[1].chunk.content, "Hi");
  EXPECT_EQ(c[2].chunk.content, " there");
  EXPECT_EQ(c[2].chunk.finish_reason, "stop");
  EXPECT_TRUE(c[3].chunk.usage_only());
  EXPECT_EQ(c[4].kind, StreamEventKind::done);
}

}  // namespace
}  // namespace trackiq::load
