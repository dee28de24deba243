#include "libs/spoe/codec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/spoe/headers.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::spoe {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Varint(uint64_t v) {
  std::string out;
  AppendVarint(v, &out);
  return out;
}

uint64_t Roundtrip(uint64_t v) {
  std::string bytes = Varint(v);
  std::string_view in = bytes;
  uint64_t out = 0;
  EXPECT_THAT(ReadVarint(&in, &out), IsOk());
  EXPECT_TRUE(in.empty());
  return out;
}

TEST(Varint, EncodesTheSpecBoundariesWithTheDocumentedLengths) {
  // SPOE.txt 3.1: 1 byte below 240, 2 below 2288, 3 below 264432, 4 below 33818864.
  EXPECT_EQ(Varint(0).size(), 1u);
  EXPECT_EQ(Varint(239).size(), 1u);
  EXPECT_EQ(Varint(240).size(), 2u);
  EXPECT_EQ(Varint(2287).size(), 2u);
  EXPECT_EQ(Varint(2288).size(), 3u);
  EXPECT_EQ(Varint(264431).size(), 3u);
  EXPECT_EQ(Varint(264432).size(), 4u);
  EXPECT_EQ(Varint(33818863).size(), 4u);
  EXPECT_EQ(Varint(33818864).size(), 5u);
  EXPECT_EQ(Varint(240), std::string("\xF0\x00", 2));
  EXPECT_EQ(Varint(2287), std::string("\xFF\x7F", 2));
}

TEST(Varint, RoundTripsEveryMagnitudeUpToUint64Max) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{239}, uint64_t{240}, uint64_t{241}, uint64_t{2287},
        uint64_t{2288}, uint64_t{65535}, uint64_t{264432}, uint64_t{1} << 32,
        (uint64_t{1} << 63) + 12345, std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(Roundtrip(v), v) << v;
  }
  for (uint64_t v = 0; v < 300000; v += 7) ASSERT_EQ(Roundtrip(v), v);
}

TEST(Varint, RejectsTruncatedAndOverlongInput) {
  uint64_t v = 0;
  std::string_view empty;
  EXPECT_THAT(ReadVarint(&empty, &v), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string truncated = Varint(100000);
  truncated.pop_back();
  std::string_view in = truncated;
  EXPECT_THAT(ReadVarint(&in, &v), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string endless(20, '\xFF');
  in = endless;
  EXPECT_THAT(ReadVarint(&in, &v), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TypedData, RoundTripsEveryType) {
  const std::string binary("\0\x01\xFF", 3);
  std::vector<TypedData> values = {
      TypedData::Null(),
      TypedData::Bool(true),
      TypedData::Bool(false),
      TypedData::Int32(-5),
      TypedData::Int32(INT32_MAX),
      TypedData::Uint32(4000000000u),
      TypedData::Int64(-(int64_t{1} << 40)),
      TypedData::Uint64(UINT64_MAX),
      TypedData::Ipv4({192, 0, 2, 7}),
      TypedData::Ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
      TypedData::String("héllo"),
      TypedData::Binary(binary)};
  std::string bytes;
  for (const TypedData& v : values) AppendTypedData(v, &bytes);
  std::string_view in = bytes;
  for (const TypedData& want : values) {
    TypedData got;
    ASSERT_THAT(ReadTypedData(&in, &got), IsOk());
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.boolean, want.boolean);
    EXPECT_EQ(got.int_value, want.int_value);
    EXPECT_EQ(got.uint_value, want.uint_value);
    EXPECT_EQ(got.ip, want.ip);
    EXPECT_EQ(got.bytes, want.bytes);
  }
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(values[8].IpText(), "192.0.2.7");
  EXPECT_EQ(values[9].IpText(), "2001:db8::1");
}

TEST(TypedData, RejectsUnknownTypesTruncatedAddressesAndOverlongStrings) {
  TypedData d;
  for (std::string bad : {std::string("\x0A"), std::string("\x06\x01\x02"), std::string("\x07\x01"),
                          std::string("\x08\x05"
                                      "abc"),
                          std::string("\x02\xF0"), std::string("\x03\xFF\xFF\xFF\xFF\x7F")}) {
    std::string_view in = bad;
    EXPECT_THAT(ReadTypedData(&in, &d), StatusIs(absl::StatusCode::kInvalidArgument))
        << "input of " << bad.size() << " bytes";
  }
}

TEST(Frame, NextFrameWaitsForWholeFramesAndBoundsTheirLength) {
  std::string wire;
  EncodeNotify(1, 2, {{"m", {{"a", TypedData::Int32(1)}}}}, &wire);
  std::size_t consumed = 0;
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    auto next = NextFrame(std::string_view(wire).substr(0, cut), 1000, &consumed);
    ASSERT_THAT(next, IsOk());
    EXPECT_FALSE(next->has_value()) << cut;
  }
  auto next = NextFrame(wire + "trailing", 1000, &consumed);
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(consumed, wire.size());

  EXPECT_THAT(NextFrame(wire, 5, &consumed),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max-frame-size 5")));
  EXPECT_THAT(NextFrame(std::string("\0\0\0\0", 4), 1000, &consumed),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(SpopStatusOf(NextFrame(wire, 5, &consumed).status()), SpopStatus::kFrameTooBig);
}

TEST(Frame, DecodesNotifyMessagesWithIdsAndArguments) {
  std::string wire;
  EncodeNotify(
      77, 300,
      {{"shieldx-req",
        {{"method", TypedData::String("GET")}, {"client_ip", TypedData::Ipv4({10, 0, 0, 1})}}},
       {"other", {}}},
      &wire);
  std::size_t consumed = 0;
  auto bytes = NextFrame(wire, 1000, &consumed);
  ASSERT_THAT(bytes, IsOk());
  ASSERT_OK_AND_ASSIGN(Frame f, DecodeFrame(**bytes));
  EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kNotify));
  EXPECT_TRUE(f.fin());
  EXPECT_EQ(f.stream_id, 77u);
  EXPECT_EQ(f.frame_id, 300u);
  ASSERT_OK_AND_ASSIGN(std::vector<Message> messages, DecodeMessages(f.payload, {}));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].name, "shieldx-req");
  ASSERT_NE(messages[0].Arg("method"), nullptr);
  EXPECT_EQ(*messages[0].Arg("method")->AsBytes(), "GET");
  EXPECT_EQ(messages[0].Arg("client_ip")->IpText(), "10.0.0.1");
  EXPECT_EQ(messages[0].Arg("absent"), nullptr);
  EXPECT_EQ(messages[1].name, "other");
  EXPECT_TRUE(messages[1].args.empty());
}

TEST(Frame, MessageDecodingEnforcesEveryLimit) {
  DecodeLimits limits;
  limits.max_messages = 2;
  limits.max_args = 3;
  limits.max_name_bytes = 8;
  auto decode = [&](const std::vector<OutMessage>& messages) {
    std::string wire;
    EncodeNotify(1, 1, messages, &wire);
    std::size_t consumed = 0;
    auto bytes = NextFrame(wire, 100000, &consumed);
    auto frame = DecodeFrame(**bytes);
    return DecodeMessages(frame->payload, limits).status();
  };
  EXPECT_THAT(decode({{"a", {}}, {"b", {}}}), IsOk());
  EXPECT_THAT(decode({{"a", {}}, {"b", {}}, {"c", {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 2 messages")));
  std::vector<std::pair<std::string, TypedData>> four_args(4, {"x", TypedData::Null()});
  EXPECT_THAT(decode({{"a", four_args}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 arguments")));
  EXPECT_THAT(decode({{"a-very-long-name", {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit of 8")));
}

TEST(Frame, MalformedPayloadsFailCleanlyAtEveryTruncationPoint) {
  std::string wire;
  EncodeNotify(5, 6,
               {{"shieldx-req",
                 {{"path", TypedData::String("/index.html")},
                  {"body", TypedData::Binary(std::string(300, 'x'))},
                  {"n", TypedData::Uint64(1ull << 50)}}}},
               &wire);
  const std::string frame = wire.substr(4);
  // Every prefix of the frame either decodes (a shorter valid list) or fails with a status.
  for (std::size_t cut = 0; cut < frame.size(); ++cut) {
    auto f = DecodeFrame(std::string_view(frame).substr(0, cut));
    if (!f.ok()) {
      EXPECT_THAT(f, StatusIs(absl::StatusCode::kInvalidArgument));
      continue;
    }
    auto messages = DecodeMessages(f->payload, {});
    if (!messages.ok()) {
      EXPECT_EQ(SpopStatusOf(messages.status()), SpopStatus::kInvalidFrame);
    }
  }
  // Flipping bytes never crashes either.
  for (std::size_t i = 0; i < frame.size(); ++i) {
    std::string mutated = frame;
    mutated[i] = static_cast<char>(mutated[i] ^ 0xA5);
    auto f = DecodeFrame(mutated);
    if (f.ok()) (void)DecodeMessages(f->payload, {});
  }
}

TEST(Hello, ParsesHaproxyHelloAndNegotiatesVersionFrameSizeAndCapabilities) {
  HaproxyHello in;
  in.supported_versions = {"2.0"};
  in.max_frame_size = 16380;
  in.capabilities = {"pipelining", "async"};
  in.engine_id = "E1";
  std::string wire;
  EncodeHaproxyHello(in, &wire);
  ASSERT_OK_AND_ASSIGN(Frame f, DecodeFrame(std::string_view(wire).substr(4)));
  ASSERT_OK_AND_ASSIGN(std::vector<KvItem> items, DecodeKvList(f.payload, {}));
  ASSERT_OK_AND_ASSIGN(HaproxyHello hello, ParseHaproxyHello(items));
  EXPECT_THAT(hello.supported_versions, ElementsAre("2.0"));
  EXPECT_EQ(hello.max_frame_size, 16380u);
  EXPECT_THAT(hello.capabilities, ElementsAre("pipelining", "async"));
  EXPECT_FALSE(hello.healthcheck);
  EXPECT_EQ(hello.engine_id, "E1");

  AgentCapabilities ours;
  ours.max_frame_size = 65532;
  ASSERT_OK_AND_ASSIGN(AgentHello reply, Negotiate(hello, ours));
  EXPECT_EQ(reply.version, "2.0");
  EXPECT_EQ(reply.max_frame_size, 16380u);                     // the smaller of the two
  EXPECT_THAT(reply.capabilities, ElementsAre("pipelining"));  // never async
  ours.max_frame_size = 4096;
  EXPECT_EQ(Negotiate(hello, ours)->max_frame_size, 4096u);
}

TEST(Hello, MissingOrIncompatibleItemsMapToTheirSpopStatus) {
  auto parse = [](const std::vector<KvItem>& items) { return ParseHaproxyHello(items).status(); };
  const KvItem version{"supported-versions", TypedData::String("2.0")};
  const KvItem size{"max-frame-size", TypedData::Uint32(16380)};
  const KvItem caps{"capabilities", TypedData::String("")};
  EXPECT_EQ(SpopStatusOf(parse({size, caps})), SpopStatus::kNoVersion);
  EXPECT_EQ(SpopStatusOf(parse({version, caps})), SpopStatus::kNoMaxFrameSize);
  EXPECT_EQ(SpopStatusOf(parse({version, size})), SpopStatus::kNoCapabilities);
  EXPECT_THAT(parse({version, size, caps}), IsOk());

  HaproxyHello old;
  old.supported_versions = {"1.0"};
  old.max_frame_size = 16380;
  EXPECT_EQ(SpopStatusOf(Negotiate(old, {}).status()), SpopStatus::kUnsupportedVersion);
  HaproxyHello tiny;
  tiny.supported_versions = {"2.0"};
  tiny.max_frame_size = 100;
  EXPECT_EQ(SpopStatusOf(Negotiate(tiny, {}).status()), SpopStatus::kBadMaxFrameSize);
}

TEST(Ack, EncodesSetVarAndUnsetVarActionsThatDecodeBack) {
  std::vector<Action> actions = {Action::SetString(VarScope::kTransaction, "action", "block"),
                                 Action::SetInt32(VarScope::kTransaction, "status", 403),
                                 *Action::SetIp(VarScope::kTransaction, "ip", "::1"),
                                 Action::Unset(VarScope::kSession, "gone")};
  std::string wire;
  ASSERT_THAT(EncodeAck(9, 10, actions, 16380, &wire), IsOk());
  ASSERT_OK_AND_ASSIGN(Frame f, DecodeFrame(std::string_view(wire).substr(4)));
  EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kAck));
  EXPECT_EQ(f.stream_id, 9u);
  EXPECT_EQ(f.frame_id, 10u);
  ASSERT_OK_AND_ASSIGN(std::vector<Action> back, DecodeActions(f.payload, {}));
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back[0].name, "action");
  EXPECT_EQ(back[0].bytes, "block");
  EXPECT_EQ(back[1].int_value, 403);
  EXPECT_EQ(back[2].value().IpText(), "::1");
  EXPECT_EQ(back[3].type, ActionType::kUnsetVar);
  EXPECT_EQ(back[3].scope, VarScope::kSession);
  EXPECT_FALSE(Action::SetIp(VarScope::kTransaction, "ip", "example.com").has_value());
}

TEST(Ack, RefusesToExceedTheNegotiatedFrameSize) {
  std::vector<Action> actions = {
      Action::SetString(VarScope::kTransaction, "big", std::string(1000, 'x'))};
  std::string wire;
  EXPECT_THAT(EncodeAck(1, 1, actions, 256, &wire),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max-frame-size 256")));
  EXPECT_TRUE(wire.empty());
}

TEST(Disconnect, CarriesStatusCodeAndMessage) {
  std::string wire;
  EncodeAgentDisconnect(SpopStatus::kFragmentationNotSupported, "no fragments", &wire);
  ASSERT_OK_AND_ASSIGN(Frame f, DecodeFrame(std::string_view(wire).substr(4)));
  EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kAgentDisconnect));
  ASSERT_OK_AND_ASSIGN(std::vector<KvItem> items, DecodeKvList(f.payload, {}));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].name, "status-code");
  EXPECT_EQ(items[0].value.uint_value, 10u);
  EXPECT_EQ(*items[1].value.AsBytes(), "no fragments");
}

TEST(BinaryHeaders, DecodesHaproxyHeaderBlocks) {
  const std::string block =
      EncodeBinaryHeaders({{"host", "example.com"}, {"user-agent", "curl"}, {"x-empty", ""}});
  std::vector<BinaryHeader> headers;
  ASSERT_THAT(DecodeBinaryHeaders(block, {}, &headers), IsOk());
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].name, "host");
  EXPECT_EQ(headers[0].value, "example.com");
  EXPECT_EQ(headers[2].name, "x-empty");
  EXPECT_EQ(headers[2].value, "");
}

TEST(BinaryHeaders, RejectsMissingTerminatorTrailingBytesAndLimits) {
  std::vector<BinaryHeader> headers;
  std::string block = EncodeBinaryHeaders({{"a", "b"}});
  EXPECT_THAT(DecodeBinaryHeaders(block.substr(0, block.size() - 2), {}, &headers),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("terminating")));
  EXPECT_THAT(DecodeBinaryHeaders(block + "x", {}, &headers),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after the terminating")));
  EXPECT_THAT(DecodeBinaryHeaders(std::string("\x00\x01v\x00\x00", 5), {}, &headers),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without a header name")));
  EXPECT_THAT(DecodeBinaryHeaders(std::string("\x05"
                                              "ab",
                                              3),
                                  {}, &headers),
              StatusIs(absl::StatusCode::kInvalidArgument));
  HeaderBlockLimits limits;
  limits.max_headers = 2;
  EXPECT_THAT(DecodeBinaryHeaders(EncodeBinaryHeaders({{"a", "1"}, {"b", "2"}, {"c", "3"}}), limits,
                                  &headers),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("more than 2 headers")));
  limits = {};
  limits.max_value_bytes = 4;
  EXPECT_THAT(DecodeBinaryHeaders(EncodeBinaryHeaders({{"a", "12345"}}), limits, &headers),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit of 4")));
}

}  // namespace
}  // namespace shieldx::spoe
