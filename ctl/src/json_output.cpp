// gctl --json: protobuf's JSON mapping, except that 64-bit integers are
// JSON numbers, not strings (proto3's mapping quotes them for JavaScript's
// sake), so `jq '.pools[].workers[].served | add'` adds them up. Every
// field is printed (defaults too), with the .proto field names, in field
// order; enums by name, as the standard mapping does. Counters stay far
// below 2^53, where every JSON reader is exact.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "greenfork/json_text.hpp"
#include "render.hpp"

namespace greenfork::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void quote(std::string& out, const std::string& s) { append_json_string(out, s); }

void number(std::string& out, double v) {
  // Not numbers in JSON: the standard mapping's strings.
  if (std::isnan(v)) return void(out += "\"NaN\"");
  if (std::isinf(v)) return void(out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void message(std::string& out, const Message& m);

void value(std::string& out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: out += std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)); break;
    case FieldDescriptor::CPPTYPE_INT64: out += std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)); break;
    case FieldDescriptor::CPPTYPE_UINT32: out += std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f)); break;
    case FieldDescriptor::CPPTYPE_UINT64: out += std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)); break;
    case FieldDescriptor::CPPTYPE_DOUBLE: number(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f)); break;
    case FieldDescriptor::CPPTYPE_FLOAT: number(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f)); break;
    case FieldDescriptor::CPPTYPE_BOOL: out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false"; break;
    case FieldDescriptor::CPPTYPE_STRING: quote(out, rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f)); break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const auto* e = f->enum_type()->FindValueByNumber(v);
      if (e != nullptr) quote(out, e->name());
      else out += std::to_string(v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: message(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f)); break;
  }
}

void message(std::string& out, const Message& m) {
  const auto* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  out += '{';
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    // proto3 optional / oneof members and sub-messages: only when set.
    if (!f->is_repeated() && f->has_presence() && !r->HasField(m, f)) continue;
    if (!first) out += ',';
    first = false;
    quote(out, f->name());
    out += ':';
    if (f->is_repeated()) {
      out += '[';
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        if (k > 0) out += ',';
        value(out, m, f, k);
      }
      out += ']';
    } else {
      value(out, m, f, 0);
    }
  }
  out += '}';
}

}  // namespace

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  message(out, m);
  return out;
}

}  // namespace greenfork::ctl
