#include "libs/spoe/codec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace shieldx::spoe {
namespace {

// absl::StrCat and friends take absl::string_view, which is not std::string_view here.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr char kSpopStatusPayload[] = "type.shieldx.dev/spop-status";
// The low 4 bits of a TYPED-DATA type byte carry the type; the high 4 bits the flags.
constexpr uint8_t kTypeMask = 0x0F;
constexpr uint8_t kBoolTrueFlag = 0x10;

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("spop: ", A(what)));
}

absl::Status ReadByte(std::string_view* in, uint8_t* out, std::string_view what) {
  if (in->empty()) return Invalid(absl::StrCat("truncated ", A(what)));
  *out = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return absl::OkStatus();
}

// A varint length followed by that many bytes; `max_bytes` bounds the length.
absl::Status ReadLengthPrefixed(std::string_view* in, std::size_t max_bytes, std::string_view what,
                                std::string_view* out) {
  uint64_t length = 0;
  if (absl::Status s = ReadVarint(in, &length); !s.ok()) {
    return Invalid(absl::StrCat("truncated length of ", A(what)));
  }
  if (length > max_bytes) {
    return Invalid(
        absl::StrCat(A(what), " of ", length, " bytes exceeds the limit of ", max_bytes));
  }
  if (length > in->size()) {
    return Invalid(absl::StrCat(A(what), " of ", length, " bytes but only ", in->size(),
                                " bytes remain in the frame"));
  }
  *out = in->substr(0, length);
  in->remove_prefix(length);
  return absl::OkStatus();
}

void AppendString(std::string_view s, std::string* out) {
  AppendVarint(s.size(), out);
  out->append(s);
}

void AppendKv(std::string_view name, const TypedData& value, std::string* out) {
  AppendString(name, out);
  AppendTypedData(value, out);
}

void AppendUint32BigEndian(uint32_t v, std::string* out) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, 4);
}

uint32_t LoadUint32BigEndian(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(A(text), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

const KvItem* FindKv(const std::vector<KvItem>& items, std::string_view name) {
  for (const KvItem& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

// ---- Names ----------------------------------------------------------------------------------

const char* FrameTypeName(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kUnset:
      return "unset";
    case FrameType::kHaproxyHello:
      return "haproxy_hello";
    case FrameType::kHaproxyDisconnect:
      return "haproxy_disconnect";
    case FrameType::kNotify:
      return "notify";
    case FrameType::kAgentHello:
      return "agent_hello";
    case FrameType::kAgentDisconnect:
      return "agent_disconnect";
    case FrameType::kAck:
      return "ack";
  }
  return "unknown";
}

const char* SpopStatusMessage(SpopStatus status) {
  switch (status) {
    case SpopStatus::kNormal:
      return "normal";
    case SpopStatus::kIoError:
      return "I/O error";
    case SpopStatus::kTimeout:
      return "a timeout occurred";
    case SpopStatus::kFrameTooBig:
      return "frame is too big";
    case SpopStatus::kInvalidFrame:
      return "invalid frame received";
    case SpopStatus::kNoVersion:
      return "version value not found";
    case SpopStatus::kNoMaxFrameSize:
      return "max-frame-size value not found";
    case SpopStatus::kNoCapabilities:
      return "capabilities value not found";
    case SpopStatus::kUnsupportedVersion:
      return "unsupported version";
    case SpopStatus::kBadMaxFrameSize:
      return "max-frame-size too big or too small";
    case SpopStatus::kFragmentationNotSupported:
      return "payload fragmentation is not supported";
    case SpopStatus::kInterlacedFrames:
      return "invalid interlaced frames";
    case SpopStatus::kFrameIdNotFound:
      return "frame-id not found";
    case SpopStatus::kResourceAllocation:
      return "resource allocation error";
    case SpopStatus::kUnknown:
      return "an unknown error occurred";
  }
  return "an unknown error occurred";
}

absl::Status WithSpopStatus(absl::Status status, SpopStatus spop) {
  status.SetPayload(kSpopStatusPayload, absl::Cord(std::to_string(static_cast<uint32_t>(spop))));
  return status;
}

SpopStatus SpopStatusOf(const absl::Status& status) {
  if (status.ok()) return SpopStatus::kNormal;
  if (absl::optional<absl::Cord> p = status.GetPayload(kSpopStatusPayload)) {
    uint32_t code = 0;
    if (absl::SimpleAtoi(std::string(*p), &code)) return static_cast<SpopStatus>(code);
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return SpopStatus::kInvalidFrame;
    case absl::StatusCode::kResourceExhausted:
      return SpopStatus::kFrameTooBig;
    case absl::StatusCode::kUnimplemented:
      return SpopStatus::kFragmentationNotSupported;
    default:
      return SpopStatus::kUnknown;
  }
}

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kNull:
      return "null";
    case DataType::kBool:
      return "bool";
    case DataType::kInt32:
      return "int32";
    case DataType::kUint32:
      return "uint32";
    case DataType::kInt64:
      return "int64";
    case DataType::kUint64:
      return "uint64";
    case DataType::kIpv4:
      return "ipv4";
    case DataType::kIpv6:
      return "ipv6";
    case DataType::kString:
      return "string";
    case DataType::kBinary:
      return "binary";
  }
  return "unknown";
}

// ---- TypedData ------------------------------------------------------------------------------

TypedData TypedData::Bool(bool v) {
  TypedData d;
  d.type = DataType::kBool;
  d.boolean = v;
  return d;
}
TypedData TypedData::Int32(int32_t v) {
  TypedData d;
  d.type = DataType::kInt32;
  d.int_value = v;
  return d;
}
TypedData TypedData::Uint32(uint32_t v) {
  TypedData d;
  d.type = DataType::kUint32;
  d.uint_value = v;
  return d;
}
TypedData TypedData::Int64(int64_t v) {
  TypedData d;
  d.type = DataType::kInt64;
  d.int_value = v;
  return d;
}
TypedData TypedData::Uint64(uint64_t v) {
  TypedData d;
  d.type = DataType::kUint64;
  d.uint_value = v;
  return d;
}
TypedData TypedData::Ipv4(const std::array<uint8_t, 4>& addr) {
  TypedData d;
  d.type = DataType::kIpv4;
  std::copy(addr.begin(), addr.end(), d.ip.begin());
  return d;
}
TypedData TypedData::Ipv6(const std::array<uint8_t, 16>& addr) {
  TypedData d;
  d.type = DataType::kIpv6;
  d.ip = addr;
  return d;
}
TypedData TypedData::String(std::string_view v) {
  TypedData d;
  d.type = DataType::kString;
  d.bytes = v;
  return d;
}
TypedData TypedData::Binary(std::string_view v) {
  TypedData d;
  d.type = DataType::kBinary;
  d.bytes = v;
  return d;
}

std::optional<std::string_view> TypedData::AsBytes() const {
  if (type == DataType::kString || type == DataType::kBinary) return bytes;
  return std::nullopt;
}

std::optional<int64_t> TypedData::AsInt() const {
  switch (type) {
    case DataType::kInt32:
    case DataType::kInt64:
      return int_value;
    case DataType::kUint32:
    case DataType::kUint64:
      if (uint_value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(uint_value);
    default:
      return std::nullopt;
  }
}

std::string TypedData::IpText() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (type == DataType::kIpv4) {
    if (inet_ntop(AF_INET, ip.data(), buf, sizeof(buf)) == nullptr) return "";
    return buf;
  }
  if (type == DataType::kIpv6) {
    if (inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf)) == nullptr) return "";
    return buf;
  }
  return "";
}

const TypedData* Message::Arg(std::string_view arg_name) const {
  for (const KvItem& item : args) {
    if (item.name == arg_name) return &item.value;
  }
  return nullptr;
}

// ---- Action ---------------------------------------------------------------------------------

namespace {
Action MakeSet(VarScope scope, std::string name, DataType type) {
  Action a;
  a.type = ActionType::kSetVar;
  a.scope = scope;
  a.name = std::move(name);
  a.value_type = type;
  return a;
}
}  // namespace

Action Action::SetString(VarScope scope, std::string name, std::string value) {
  Action a = MakeSet(scope, std::move(name), DataType::kString);
  a.bytes = std::move(value);
  return a;
}
Action Action::SetBinary(VarScope scope, std::string name, std::string value) {
  Action a = MakeSet(scope, std::move(name), DataType::kBinary);
  a.bytes = std::move(value);
  return a;
}
Action Action::SetInt32(VarScope scope, std::string name, int32_t value) {
  Action a = MakeSet(scope, std::move(name), DataType::kInt32);
  a.int_value = value;
  return a;
}
Action Action::SetInt64(VarScope scope, std::string name, int64_t value) {
  Action a = MakeSet(scope, std::move(name), DataType::kInt64);
  a.int_value = value;
  return a;
}
Action Action::SetUint32(VarScope scope, std::string name, uint32_t value) {
  Action a = MakeSet(scope, std::move(name), DataType::kUint32);
  a.uint_value = value;
  return a;
}
Action Action::SetBool(VarScope scope, std::string name, bool value) {
  Action a = MakeSet(scope, std::move(name), DataType::kBool);
  a.boolean = value;
  return a;
}
std::optional<Action> Action::SetIp(VarScope scope, std::string name, std::string_view ip) {
  std::string text(ip);
  Action a = MakeSet(scope, std::move(name), DataType::kIpv4);
  if (inet_pton(AF_INET, text.c_str(), a.ip.data()) == 1) return a;
  a.value_type = DataType::kIpv6;
  if (inet_pton(AF_INET6, text.c_str(), a.ip.data()) == 1) return a;
  return std::nullopt;
}
Action Action::Unset(VarScope scope, std::string name) {
  Action a;
  a.type = ActionType::kUnsetVar;
  a.scope = scope;
  a.name = std::move(name);
  return a;
}

TypedData Action::value() const {
  TypedData d;
  d.type = value_type;
  d.boolean = boolean;
  d.int_value = int_value;
  d.uint_value = uint_value;
  d.ip = ip;
  d.bytes = bytes;
  return d;
}

// ---- Varint ---------------------------------------------------------------------------------

// Values below 240 take one byte. Larger values: the first byte is 0xF0 | (low 4 bits), then
// 7 bits per byte with the high bit meaning "more follows", each group offset so that every
// value has exactly one encoding length.
void AppendVarint(uint64_t value, std::string* out) {
  if (value < 240) {
    out->push_back(static_cast<char>(value));
    return;
  }
  out->push_back(static_cast<char>(static_cast<uint8_t>(value) | 0xF0));
  value = (value - 240) >> 4;
  while (value >= 128) {
    out->push_back(static_cast<char>(static_cast<uint8_t>(value) | 0x80));
    value = (value - 128) >> 7;
  }
  out->push_back(static_cast<char>(value));
}

absl::Status ReadVarint(std::string_view* in, uint64_t* value) {
  if (in->empty()) return Invalid("truncated varint");
  const auto* p = reinterpret_cast<const uint8_t*>(in->data());
  uint64_t v = p[0];
  std::size_t used = 1;
  if (v >= 240) {
    unsigned shift = 4;
    while (true) {
      if (used >= in->size()) return Invalid("truncated varint");
      if (used >= kMaxVarintBytes) return Invalid("varint longer than 10 bytes");
      const uint8_t b = p[used++];
      // Each byte adds its full value (continuation bit included) at the group's position,
      // undoing the encoder's subtraction; shifts past 63 would lose bits: reject them.
      if (shift > 63) return Invalid("varint overflows 64 bits");
      const uint64_t add = uint64_t{b} << shift;
      if ((add >> shift) != b || v + add < v) return Invalid("varint overflows 64 bits");
      v += add;
      shift += 7;
      if (b < 128) break;
    }
  }
  in->remove_prefix(used);
  *value = v;
  return absl::OkStatus();
}

// ---- Typed data -----------------------------------------------------------------------------

absl::Status ReadTypedData(std::string_view* in, TypedData* value) {
  uint8_t tag = 0;
  if (absl::Status s = ReadByte(in, &tag, "typed data"); !s.ok()) return s;
  const uint8_t type = tag & kTypeMask;
  TypedData d;
  d.type = static_cast<DataType>(type);
  uint64_t v = 0;
  switch (d.type) {
    case DataType::kNull:
      break;
    case DataType::kBool:
      d.boolean = (tag & kBoolTrueFlag) != 0;
      break;
    case DataType::kInt32:
    case DataType::kInt64:
      if (absl::Status s = ReadVarint(in, &v); !s.ok()) return s;
      if (d.type == DataType::kInt32) {
        // HAProxy encodes negative int32 values as their 64-bit two's complement.
        const auto i = static_cast<int64_t>(v);
        if (i < INT32_MIN || i > INT32_MAX) return Invalid("int32 value out of range");
        d.int_value = i;
      } else {
        d.int_value = static_cast<int64_t>(v);
      }
      break;
    case DataType::kUint32:
    case DataType::kUint64:
      if (absl::Status s = ReadVarint(in, &v); !s.ok()) return s;
      if (d.type == DataType::kUint32 && v > UINT32_MAX)
        return Invalid("uint32 value out of range");
      d.uint_value = v;
      break;
    case DataType::kIpv4:
      if (in->size() < 4) return Invalid("truncated ipv4 value");
      std::memcpy(d.ip.data(), in->data(), 4);
      in->remove_prefix(4);
      break;
    case DataType::kIpv6:
      if (in->size() < 16) return Invalid("truncated ipv6 value");
      std::memcpy(d.ip.data(), in->data(), 16);
      in->remove_prefix(16);
      break;
    case DataType::kString:
    case DataType::kBinary:
      // Bounded by the frame: the frame size was checked when it was read.
      if (absl::Status s = ReadLengthPrefixed(in, in->size(), "string value", &d.bytes); !s.ok()) {
        return s;
      }
      break;
    default:
      return Invalid(absl::StrCat("unknown data type ", type));
  }
  *value = d;
  return absl::OkStatus();
}

void AppendTypedData(const TypedData& value, std::string* out) {
  const auto type = static_cast<uint8_t>(value.type);
  switch (value.type) {
    case DataType::kNull:
      out->push_back(static_cast<char>(type));
      return;
    case DataType::kBool:
      out->push_back(static_cast<char>(type | (value.boolean ? kBoolTrueFlag : 0)));
      return;
    case DataType::kInt32:
    case DataType::kInt64:
      out->push_back(static_cast<char>(type));
      AppendVarint(static_cast<uint64_t>(value.int_value), out);
      return;
    case DataType::kUint32:
    case DataType::kUint64:
      out->push_back(static_cast<char>(type));
      AppendVarint(value.uint_value, out);
      return;
    case DataType::kIpv4:
      out->push_back(static_cast<char>(type));
      out->append(reinterpret_cast<const char*>(value.ip.data()), 4);
      return;
    case DataType::kIpv6:
      out->push_back(static_cast<char>(type));
      out->append(reinterpret_cast<const char*>(value.ip.data()), 16);
      return;
    case DataType::kString:
    case DataType::kBinary:
      out->push_back(static_cast<char>(type));
      AppendString(value.bytes, out);
      return;
  }
  out->push_back(static_cast<char>(DataType::kNull));
}

// ---- Frames ---------------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string_view>> NextFrame(std::string_view buffer,
                                                          uint32_t max_frame_size,
                                                          std::size_t* consumed) {
  *consumed = 0;
  if (buffer.size() < kFrameLengthBytes) return std::optional<std::string_view>();
  const uint32_t length = LoadUint32BigEndian(buffer);
  if (length == 0) return Invalid("frame of length 0");
  if (length > max_frame_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("spop: frame of ", length, " bytes exceeds max-frame-size ", max_frame_size));
  }
  if (buffer.size() - kFrameLengthBytes < length) return std::optional<std::string_view>();
  *consumed = kFrameLengthBytes + length;
  return std::optional<std::string_view>(buffer.substr(kFrameLengthBytes, length));
}

absl::StatusOr<Frame> DecodeFrame(std::string_view frame) {
  Frame f;
  std::string_view in = frame;
  if (absl::Status s = ReadByte(&in, &f.type, "frame type"); !s.ok()) return s;
  if (in.size() < 4) return Invalid("truncated frame flags");
  f.flags = LoadUint32BigEndian(in);
  in.remove_prefix(4);
  if (!ReadVarint(&in, &f.stream_id).ok()) return Invalid("truncated stream-id");
  if (!ReadVarint(&in, &f.frame_id).ok()) return Invalid("truncated frame-id");
  f.payload = in;
  return f;
}

absl::StatusOr<std::vector<KvItem>> DecodeKvList(std::string_view payload,
                                                 const DecodeLimits& limits) {
  std::vector<KvItem> items;
  while (!payload.empty()) {
    if (items.size() >= limits.max_kv_items) {
      return Invalid(absl::StrCat("more than ", limits.max_kv_items, " KV items"));
    }
    KvItem item;
    if (absl::Status s = ReadLengthPrefixed(&payload, limits.max_name_bytes, "KV name", &item.name);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ReadTypedData(&payload, &item.value); !s.ok()) return s;
    items.push_back(item);
  }
  return items;
}

absl::StatusOr<std::vector<Message>> DecodeMessages(std::string_view payload,
                                                    const DecodeLimits& limits) {
  std::vector<Message> messages;
  while (!payload.empty()) {
    if (messages.size() >= limits.max_messages) {
      return Invalid(absl::StrCat("more than ", limits.max_messages, " messages in one frame"));
    }
    Message m;
    if (absl::Status s =
            ReadLengthPrefixed(&payload, limits.max_name_bytes, "message name", &m.name);
        !s.ok()) {
      return s;
    }
    uint8_t nb_args = 0;
    if (absl::Status s = ReadByte(&payload, &nb_args, "argument count"); !s.ok()) return s;
    if (nb_args > limits.max_args) {
      return Invalid(absl::StrCat("message with ", int{nb_args}, " arguments exceeds the limit of ",
                                  limits.max_args));
    }
    m.args.reserve(nb_args);
    for (int i = 0; i < nb_args; ++i) {
      KvItem arg;
      if (absl::Status s =
              ReadLengthPrefixed(&payload, limits.max_name_bytes, "argument name", &arg.name);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ReadTypedData(&payload, &arg.value); !s.ok()) return s;
      m.args.push_back(arg);
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

absl::StatusOr<std::vector<Action>> DecodeActions(std::string_view payload,
                                                  const DecodeLimits& limits) {
  std::vector<Action> actions;
  while (!payload.empty()) {
    if (actions.size() >= limits.max_actions) {
      return Invalid(absl::StrCat("more than ", limits.max_actions, " actions"));
    }
    uint8_t type = 0, nb_args = 0, scope = 0;
    if (absl::Status s = ReadByte(&payload, &type, "action type"); !s.ok()) return s;
    if (absl::Status s = ReadByte(&payload, &nb_args, "action argument count"); !s.ok()) return s;
    const bool set = type == static_cast<uint8_t>(ActionType::kSetVar);
    if (!set && type != static_cast<uint8_t>(ActionType::kUnsetVar)) {
      return Invalid(absl::StrCat("unknown action type ", int{type}));
    }
    if (nb_args != (set ? 3 : 2)) {
      return Invalid(absl::StrCat("action with ", int{nb_args}, " arguments"));
    }
    if (absl::Status s = ReadByte(&payload, &scope, "variable scope"); !s.ok()) return s;
    if (scope > static_cast<uint8_t>(VarScope::kResponse)) {
      return Invalid(absl::StrCat("unknown variable scope ", int{scope}));
    }
    std::string_view name;
    if (absl::Status s =
            ReadLengthPrefixed(&payload, limits.max_name_bytes, "variable name", &name);
        !s.ok()) {
      return s;
    }
    Action a = Action::Unset(static_cast<VarScope>(scope), std::string(name));
    if (set) {
      TypedData v;
      if (absl::Status s = ReadTypedData(&payload, &v); !s.ok()) return s;
      a.type = ActionType::kSetVar;
      a.value_type = v.type;
      a.boolean = v.boolean;
      a.int_value = v.int_value;
      a.uint_value = v.uint_value;
      a.ip = v.ip;
      a.bytes = std::string(v.bytes);
    }
    actions.push_back(std::move(a));
  }
  return actions;
}

// ---- HELLO ----------------------------------------------------------------------------------

absl::StatusOr<HaproxyHello> ParseHaproxyHello(const std::vector<KvItem>& items) {
  HaproxyHello hello;
  const KvItem* versions = FindKv(items, "supported-versions");
  if (versions == nullptr) {
    return WithSpopStatus(Invalid("HAPROXY-HELLO without supported-versions"),
                          SpopStatus::kNoVersion);
  }
  std::optional<std::string_view> text = versions->value.AsBytes();
  if (!text) return Invalid("HAPROXY-HELLO supported-versions is not a string");
  hello.supported_versions = SplitCommaList(*text);

  const KvItem* frame_size = FindKv(items, "max-frame-size");
  if (frame_size == nullptr) {
    return WithSpopStatus(Invalid("HAPROXY-HELLO without max-frame-size"),
                          SpopStatus::kNoMaxFrameSize);
  }
  std::optional<int64_t> size = frame_size->value.AsInt();
  if (!size || *size < 0 || *size > UINT32_MAX) {
    return WithSpopStatus(Invalid("HAPROXY-HELLO max-frame-size is not a uint32"),
                          SpopStatus::kBadMaxFrameSize);
  }
  hello.max_frame_size = static_cast<uint32_t>(*size);

  const KvItem* caps = FindKv(items, "capabilities");
  if (caps == nullptr) {
    return WithSpopStatus(Invalid("HAPROXY-HELLO without capabilities"),
                          SpopStatus::kNoCapabilities);
  }
  text = caps->value.AsBytes();
  if (!text) return Invalid("HAPROXY-HELLO capabilities is not a string");
  hello.capabilities = SplitCommaList(*text);

  if (const KvItem* hc = FindKv(items, "healthcheck"); hc != nullptr) {
    hello.healthcheck = hc->value.type == DataType::kBool && hc->value.boolean;
  }
  if (const KvItem* id = FindKv(items, "engine-id"); id != nullptr) {
    if (std::optional<std::string_view> v = id->value.AsBytes()) hello.engine_id = std::string(*v);
  }
  return hello;
}

absl::StatusOr<AgentHello> Negotiate(const HaproxyHello& hello, const AgentCapabilities& ours) {
  bool v2 = false;
  for (const std::string& v : hello.supported_versions) {
    // "2.0" (or any 2.x: a major version implies support of its earlier minors).
    std::string_view major = std::string_view(v).substr(0, v.find('.'));
    if (major == "2") v2 = true;
  }
  if (!v2) {
    return WithSpopStatus(
        Invalid(absl::StrCat("HAProxy offers SPOP versions [",
                             absl::StrJoin(hello.supported_versions, ","), "]; we speak 2.0")),
        SpopStatus::kUnsupportedVersion);
  }
  if (hello.max_frame_size < kMinFrameSize) {
    return WithSpopStatus(Invalid(absl::StrCat("HAProxy max-frame-size ", hello.max_frame_size,
                                               " is below the minimum of ", kMinFrameSize)),
                          SpopStatus::kBadMaxFrameSize);
  }
  AgentHello out;
  out.max_frame_size = std::min(
      {hello.max_frame_size, std::max(ours.max_frame_size, kMinFrameSize), kMaxFrameSizeCeiling});
  auto offered = [&](std::string_view cap) {
    return std::find(hello.capabilities.begin(), hello.capabilities.end(), cap) !=
           hello.capabilities.end();
  };
  if (ours.pipelining && offered("pipelining")) out.capabilities.push_back("pipelining");
  if (ours.async && offered("async")) out.capabilities.push_back("async");
  return out;
}

// ---- Encoders -------------------------------------------------------------------------------

void EncodeFrame(uint8_t type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                 std::string_view payload, std::string* out) {
  std::string body;
  body.reserve(1 + 4 + 2 * kMaxVarintBytes + payload.size());
  body.push_back(static_cast<char>(type));
  AppendUint32BigEndian(flags, &body);
  AppendVarint(stream_id, &body);
  AppendVarint(frame_id, &body);
  body.append(payload);
  AppendUint32BigEndian(static_cast<uint32_t>(body.size()), out);
  out->append(body);
}

void EncodeAgentHello(const AgentHello& hello, std::string* out) {
  std::string payload;
  AppendKv("version", TypedData::String(hello.version), &payload);
  AppendKv("max-frame-size", TypedData::Uint32(hello.max_frame_size), &payload);
  const std::string caps = absl::StrJoin(hello.capabilities, ",");
  AppendKv("capabilities", TypedData::String(caps), &payload);
  EncodeFrame(static_cast<uint8_t>(FrameType::kAgentHello), kFlagFin, 0, 0, payload, out);
}

void EncodeAgentDisconnect(SpopStatus status, std::string_view message, std::string* out) {
  std::string payload;
  AppendKv("status-code", TypedData::Uint32(static_cast<uint32_t>(status)), &payload);
  // Bounded so a disconnect always fits the smallest legal frame.
  AppendKv("message", TypedData::String(message.substr(0, 200)), &payload);
  EncodeFrame(static_cast<uint8_t>(FrameType::kAgentDisconnect), kFlagFin, 0, 0, payload, out);
}

absl::Status EncodeAck(uint64_t stream_id, uint64_t frame_id, const std::vector<Action>& actions,
                       uint32_t max_frame_size, std::string* out) {
  std::string payload;
  for (const Action& a : actions) {
    payload.push_back(static_cast<char>(a.type));
    payload.push_back(static_cast<char>(a.type == ActionType::kSetVar ? 3 : 2));
    payload.push_back(static_cast<char>(a.scope));
    AppendString(a.name, &payload);
    if (a.type == ActionType::kSetVar) AppendTypedData(a.value(), &payload);
  }
  std::string frame;
  EncodeFrame(static_cast<uint8_t>(FrameType::kAck), kFlagFin, stream_id, frame_id, payload,
              &frame);
  if (frame.size() - kFrameLengthBytes > max_frame_size) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spop: ACK of ", frame.size() - 4, " bytes exceeds max-frame-size ", max_frame_size));
  }
  out->append(frame);
  return absl::OkStatus();
}

void EncodeHaproxyHello(const HaproxyHello& hello, std::string* out) {
  std::string payload;
  const std::string versions = absl::StrJoin(hello.supported_versions, ",");
  AppendKv("supported-versions", TypedData::String(versions), &payload);
  AppendKv("max-frame-size", TypedData::Uint32(hello.max_frame_size), &payload);
  const std::string caps = absl::StrJoin(hello.capabilities, ",");
  AppendKv("capabilities", TypedData::String(caps), &payload);
  if (hello.healthcheck) AppendKv("healthcheck", TypedData::Bool(true), &payload);
  if (!hello.engine_id.empty()) AppendKv("engine-id", TypedData::String(hello.engine_id), &payload);
  EncodeFrame(static_cast<uint8_t>(FrameType::kHaproxyHello), kFlagFin, 0, 0, payload, out);
}

void EncodeHaproxyDisconnect(SpopStatus status, std::string_view message, std::string* out) {
  std::string payload;
  AppendKv("status-code", TypedData::Uint32(static_cast<uint32_t>(status)), &payload);
  AppendKv("message", TypedData::String(message), &payload);
  EncodeFrame(static_cast<uint8_t>(FrameType::kHaproxyDisconnect), kFlagFin, 0, 0, payload, out);
}

void EncodeNotify(uint64_t stream_id, uint64_t frame_id, const std::vector<OutMessage>& messages,
                  std::string* out, uint32_t flags) {
  std::string payload;
  for (const OutMessage& m : messages) {
    AppendString(m.name, &payload);
    payload.push_back(static_cast<char>(m.args.size()));
    for (const auto& [name, value] : m.args) AppendKv(name, value, &payload);
  }
  EncodeFrame(static_cast<uint8_t>(FrameType::kNotify), flags, stream_id, frame_id, payload, out);
}

}  // namespace shieldx::spoe
