// SPOP, the Stream Processing Offload Protocol HAProxy speaks to offload agents (SPOE),
// version 2.0: frame, typed-data and varint encoding and decoding.
//
// Everything here is a pure function over bytes: no I/O, no threads, no allocation beyond the
// vectors returned. Decoders never trust a length: every varint, string, list and frame is
// checked against the bytes present and against DecodeLimits, and failures are statuses
// (never crashes), so the decoders can be fed arbitrary bytes (see codec_fuzz.cc).
//
// Decoded values are views into the input: keep the frame bytes alive while using them.
//
// Errors carry the SPOP status code an agent should put in its AGENT-DISCONNECT frame
// (SpopStatusOf): InvalidArgument -> 4 "invalid frame", ResourceExhausted -> 3 "frame too
// big", Unimplemented -> 10 "fragmentation not supported", or an explicit code (5..9) from the
// HELLO checks.
//
// Thread-safety: all functions are thread-safe (no shared state).
#ifndef SHIELDX_LIBS_SPOE_CODEC_H_
#define SHIELDX_LIBS_SPOE_CODEC_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shieldx::spoe {

// ---- Limits ---------------------------------------------------------------------------------

// Peers must accept frames of at least this size (SPOE.txt 3.2).
inline constexpr uint32_t kMinFrameSize = 256;
// The largest frame size this codec ever negotiates (HAProxy's own ceiling is
// tune.bufsize - 4; 1 MiB bounds the per-connection buffer).
inline constexpr uint32_t kMaxFrameSizeCeiling = 1024 * 1024;
// Bytes of the big-endian length that prefixes every frame on the wire.
inline constexpr std::size_t kFrameLengthBytes = 4;
// A varint never takes more than this many bytes for a 64-bit value.
inline constexpr std::size_t kMaxVarintBytes = 10;

struct DecodeLimits {
  // Messages in one NOTIFY frame (HAProxy sends one per spoe-message of the event).
  std::size_t max_messages = 16;
  // Arguments of one message (the wire allows 255).
  std::size_t max_args = 64;
  // Items of a KV-LIST (HELLO, DISCONNECT).
  std::size_t max_kv_items = 32;
  // Bytes of a message, argument, KV or variable name.
  std::size_t max_name_bytes = 256;
  // Actions in one ACK (only decoded by tests and tools).
  std::size_t max_actions = 64;
};

// ---- Protocol constants ---------------------------------------------------------------------

enum class FrameType : uint8_t {
  kUnset = 0,  // continuation fragment
  kHaproxyHello = 1,
  kHaproxyDisconnect = 2,
  kNotify = 3,
  kAgentHello = 101,
  kAgentDisconnect = 102,
  kAck = 103,
};
const char* FrameTypeName(uint8_t type);  // "notify", ... "unknown"

inline constexpr uint32_t kFlagFin = 0x1;
inline constexpr uint32_t kFlagAbort = 0x2;

// SPOE.txt 3.5.
enum class SpopStatus : uint32_t {
  kNormal = 0,
  kIoError = 1,
  kTimeout = 2,
  kFrameTooBig = 3,
  kInvalidFrame = 4,
  kNoVersion = 5,
  kNoMaxFrameSize = 6,
  kNoCapabilities = 7,
  kUnsupportedVersion = 8,
  kBadMaxFrameSize = 9,
  kFragmentationNotSupported = 10,
  kInterlacedFrames = 11,
  kFrameIdNotFound = 12,
  kResourceAllocation = 13,
  kUnknown = 99,
};
// The protocol's description of a status ("invalid frame received").
const char* SpopStatusMessage(SpopStatus status);

// The SPOP status an agent should report for a codec error (see the file comment).
SpopStatus SpopStatusOf(const absl::Status& status);
// `status` tagged with an explicit SPOP status code.
absl::Status WithSpopStatus(absl::Status status, SpopStatus spop);

enum class DataType : uint8_t {
  kNull = 0,
  kBool = 1,
  kInt32 = 2,
  kUint32 = 3,
  kInt64 = 4,
  kUint64 = 5,
  kIpv4 = 6,
  kIpv6 = 7,
  kString = 8,
  kBinary = 9,
};
const char* DataTypeName(DataType type);

enum class VarScope : uint8_t {
  kProcess = 0,
  kSession = 1,
  kTransaction = 2,
  kRequest = 3,
  kResponse = 4
};

// ---- Values ---------------------------------------------------------------------------------

// One TYPED-DATA value. String and binary bytes are a view (into the decoded frame, or into
// caller storage when encoding).
struct TypedData {
  DataType type = DataType::kNull;
  bool boolean = false;
  int64_t int_value = 0;         // kInt32, kInt64
  uint64_t uint_value = 0;       // kUint32, kUint64
  std::array<uint8_t, 16> ip{};  // kIpv4 (first 4 bytes), kIpv6; network byte order
  std::string_view bytes;        // kString, kBinary

  static TypedData Null() { return {}; }
  static TypedData Bool(bool v);
  static TypedData Int32(int32_t v);
  static TypedData Uint32(uint32_t v);
  static TypedData Int64(int64_t v);
  static TypedData Uint64(uint64_t v);
  static TypedData Ipv4(const std::array<uint8_t, 4>& addr);
  static TypedData Ipv6(const std::array<uint8_t, 16>& addr);
  static TypedData String(std::string_view v);
  static TypedData Binary(std::string_view v);

  bool is_null() const { return type == DataType::kNull; }
  // The bytes of a string or binary value; nullopt for other types.
  std::optional<std::string_view> AsBytes() const;
  // Any integer type as int64 (uint64 above INT64_MAX and non-integers: nullopt).
  std::optional<int64_t> AsInt() const;
  // Textual address of an kIpv4 / kIpv6 value ("192.0.2.1", "2001:db8::1"); "" otherwise.
  std::string IpText() const;
};

struct KvItem {
  std::string_view name;
  TypedData value;
};

// One message of a NOTIFY frame: the spoe-message name and its arguments in order.
struct Message {
  std::string_view name;
  std::vector<KvItem> args;

  // The first argument named `name`, or nullptr.
  const TypedData* Arg(std::string_view arg_name) const;
};

enum class ActionType : uint8_t { kSetVar = 1, kUnsetVar = 2 };

// One action of an ACK frame. Owns its bytes, so replies can outlive the request.
struct Action {
  ActionType type = ActionType::kSetVar;
  VarScope scope = VarScope::kTransaction;
  std::string name;
  DataType value_type = DataType::kNull;
  bool boolean = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  std::array<uint8_t, 16> ip{};
  std::string bytes;

  static Action SetString(VarScope scope, std::string name, std::string value);
  static Action SetBinary(VarScope scope, std::string name, std::string value);
  static Action SetInt32(VarScope scope, std::string name, int32_t value);
  static Action SetInt64(VarScope scope, std::string name, int64_t value);
  static Action SetUint32(VarScope scope, std::string name, uint32_t value);
  static Action SetBool(VarScope scope, std::string name, bool value);
  // From a textual IPv4/IPv6 literal; nullopt when `ip` is not one.
  static std::optional<Action> SetIp(VarScope scope, std::string name, std::string_view ip);
  static Action Unset(VarScope scope, std::string name);

  TypedData value() const;  // a view of the value (valid while this Action lives)
};

// ---- Varint (HAProxy "peers" encoding) ------------------------------------------------------

void AppendVarint(uint64_t value, std::string* out);
// Reads one varint from the front of `*in` and advances it. InvalidArgument when truncated or
// longer than a 64-bit value allows.
absl::Status ReadVarint(std::string_view* in, uint64_t* value);

// ---- Frames ---------------------------------------------------------------------------------

struct Frame {
  uint8_t type = 0;  // a FrameType value, or an unknown one (to be skipped)
  uint32_t flags = 0;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  std::string_view payload;

  bool fin() const { return (flags & kFlagFin) != 0; }
  bool abort() const { return (flags & kFlagAbort) != 0; }
};

// Splits the next frame off a byte stream. Returns the frame bytes (without the 4-byte length)
// and sets `*consumed` to the bytes used, or nullopt when `buffer` does not hold a whole frame
// yet. ResourceExhausted when the announced length exceeds `max_frame_size`,
// InvalidArgument when it is zero.
absl::StatusOr<std::optional<std::string_view>> NextFrame(std::string_view buffer,
                                                          uint32_t max_frame_size,
                                                          std::size_t* consumed);

// Decodes the frame header (type, flags, ids); the payload stays undecoded.
absl::StatusOr<Frame> DecodeFrame(std::string_view frame);

absl::StatusOr<std::vector<KvItem>> DecodeKvList(std::string_view payload,
                                                 const DecodeLimits& limits);
absl::StatusOr<std::vector<Message>> DecodeMessages(std::string_view payload,
                                                    const DecodeLimits& limits);
// Decodes the LIST-OF-ACTIONS of an ACK (tests and tools; agents only encode them).
absl::StatusOr<std::vector<Action>> DecodeActions(std::string_view payload,
                                                  const DecodeLimits& limits);
// Decodes one TYPED-DATA from the front of `*in`, advancing it.
absl::Status ReadTypedData(std::string_view* in, TypedData* value);

// ---- HELLO negotiation ----------------------------------------------------------------------

struct HaproxyHello {
  std::vector<std::string> supported_versions;  // "2.0", ...
  uint32_t max_frame_size = 0;
  std::vector<std::string> capabilities;  // "pipelining", "async", "fragmentation"
  bool healthcheck = false;
  std::string engine_id;
};

// Checks the mandatory items (SPOP statuses 5, 6, 7 when missing; 4 when mistyped).
absl::StatusOr<HaproxyHello> ParseHaproxyHello(const std::vector<KvItem>& items);

struct AgentCapabilities {
  uint32_t max_frame_size = 16380;  // our largest frame; the HELLO picks min(ours, HAProxy's)
  bool pipelining = true;
  bool async = false;  // we always answer on the connection that asked
};

struct AgentHello {
  std::string version = "2.0";
  uint32_t max_frame_size = 0;
  std::vector<std::string> capabilities;
};

// The AGENT-HELLO answering `hello`: SPOP 2.0 (UnsupportedVersion when HAProxy offers no 2.x),
// max-frame-size = min(ours, HAProxy's) (BadMaxFrameSize when HAProxy's is below 256), and
// the capabilities both sides support.
absl::StatusOr<AgentHello> Negotiate(const HaproxyHello& hello, const AgentCapabilities& ours);

// ---- Encoders (append one length-prefixed frame to *out) ------------------------------------

void AppendTypedData(const TypedData& value, std::string* out);

void EncodeAgentHello(const AgentHello& hello, std::string* out);
void EncodeAgentDisconnect(SpopStatus status, std::string_view message, std::string* out);
// ResourceExhausted (and nothing appended) when the frame would exceed `max_frame_size`.
absl::Status EncodeAck(uint64_t stream_id, uint64_t frame_id, const std::vector<Action>& actions,
                       uint32_t max_frame_size, std::string* out);

// The HAProxy side, for tests, tools and fuzz seeds.
void EncodeHaproxyHello(const HaproxyHello& hello, std::string* out);
void EncodeHaproxyDisconnect(SpopStatus status, std::string_view message, std::string* out);
struct OutMessage {
  std::string name;
  std::vector<std::pair<std::string, TypedData>> args;
};
void EncodeNotify(uint64_t stream_id, uint64_t frame_id, const std::vector<OutMessage>& messages,
                  std::string* out, uint32_t flags = kFlagFin);
// Any frame from its parts (payload already encoded).
void EncodeFrame(uint8_t type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                 std::string_view payload, std::string* out);

}  // namespace shieldx::spoe

#endif  // SHIELDX_LIBS_SPOE_CODEC_H_
