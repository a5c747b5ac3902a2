// SPDX-License-Identifier: Apache-2.0
// cmmn/xml.cpp - expat into an XmlNode tree (namespaces resolved, positions kept).
#include "cmmn/xml.hpp"

#include <expat.h>

#include <cstring>
#include <limits>

namespace acm::cmmn::detail {

const std::string* XmlNode::attr(std::string_view name) const {
  for (const auto& a : attrs)
    if (a.ns.empty() && a.local == name) return &a.value;
  return nullptr;
}

const std::string* XmlNode::attr(std::string_view ns_uri, std::string_view name) const {
  for (const auto& a : attrs)
    if (a.ns == ns_uri && a.local == name) return &a.value;
  return nullptr;
}

namespace {

constexpr char kSep = '\x01';

void split_name(const XML_Char* qname, std::string& ns, std::string& local) {
  const char* sep = std::strchr(qname, kSep);
  if (!sep) {
    ns.clear();
    local = qname;
    return;
  }
  ns.assign(qname, sep);
  local = sep + 1;
}

struct Builder {
  XML_Parser parser = nullptr;
  const XmlLimits* limits = nullptr;
  std::unique_ptr<XmlNode> root;
  XmlNode* current = nullptr;
  int depth = 0;
  std::size_t count = 0;
  bool failed = false;
  XmlError error;

  Position here() const {
    return {static_cast<int>(XML_GetCurrentLineNumber(parser)),
            static_cast<int>(XML_GetCurrentColumnNumber(parser)) + 1};
  }
  void fail(std::string message) {
    if (failed) return;
    failed = true;
    error = {here(), std::move(message)};
    XML_StopParser(parser, XML_FALSE);
  }

  static void on_start(void* data, const XML_Char* name, const XML_Char** atts) {
    auto* b = static_cast<Builder*>(data);
    if (b->failed) return;
    if (++b->depth > b->limits->max_depth) {
      b->fail("elements nested more than " + std::to_string(b->limits->max_depth) + " levels deep");
      return;
    }
    if (++b->count > b->limits->max_elements) {
      b->fail("more than " + std::to_string(b->limits->max_elements) + " elements");
      return;
    }
    auto node = std::make_unique<XmlNode>();
    split_name(name, node->ns, node->local);
    node->pos = b->here();
    for (int i = 0; atts[i]; i += 2) {
      XmlNode::Attr a;
      split_name(atts[i], a.ns, a.local);
      a.value = atts[i + 1];
      node->attrs.push_back(std::move(a));
    }
    XmlNode* raw = node.get();
    if (!b->current) {
      b->root = std::move(node);
    } else {
      raw->parent = b->current;
      b->current->children.push_back(std::move(node));
    }
    b->current = raw;
  }

  static void on_end(void* data, const XML_Char* /*name*/) {
    auto* b = static_cast<Builder*>(data);
    if (b->failed) return;
    --b->depth;
    if (b->current) b->current = b->current->parent;
  }

  static void on_text(void* data, const XML_Char* s, int len) {
    auto* b = static_cast<Builder*>(data);
    if (b->failed || !b->current || len <= 0) return;
    if (b->current->text.size() + static_cast<std::size_t>(len) > b->limits->max_bytes) {
      b->fail("text too long");
      return;
    }
    b->current->text.append(s, static_cast<std::size_t>(len));
  }

  static void on_doctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
                         int /*has_internal_subset*/) {
    static_cast<Builder*>(data)->fail("a DOCTYPE is not accepted in a CMMN model");
  }

  static void on_entity(void* data, const XML_Char* /*name*/, int /*param*/, const XML_Char* /*value*/, int /*len*/,
                        const XML_Char* /*base*/, const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
                        const XML_Char* /*notation*/) {
    static_cast<Builder*>(data)->fail("entity declarations are not accepted in a CMMN model");
  }
};

}  // namespace

std::unique_ptr<XmlNode> parse_xml(std::string_view text, XmlError& error, const XmlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    error = {{1, 1}, "the document is larger than " + std::to_string(limits.max_bytes) + " bytes"};
    return nullptr;
  }
  XML_Parser parser = XML_ParserCreateNS(nullptr, kSep);
  if (!parser) {
    error = {{0, 0}, "out of memory creating the XML parser"};
    return nullptr;
  }
  Builder b;
  b.parser = parser;
  b.limits = &limits;
  XML_SetUserData(parser, &b);
  XML_SetElementHandler(parser, &Builder::on_start, &Builder::on_end);
  XML_SetCharacterDataHandler(parser, &Builder::on_text);
  XML_SetStartDoctypeDeclHandler(parser, &Builder::on_doctype);
  XML_SetEntityDeclHandler(parser, &Builder::on_entity);
  XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);

  // Feed in chunks: XML_Parse takes an int length.
  constexpr std::size_t kChunk = 1u << 20;
  std::size_t off = 0;
  bool ok = true;
  do {
    const std::size_t n = std::min(kChunk, text.size() - off);
    const bool last = off + n == text.size();
    if (XML_Parse(parser, text.data() + off, static_cast<int>(n), last ? XML_TRUE : XML_FALSE) == XML_STATUS_ERROR) {
      ok = false;
      break;
    }
    off += n;
  } while (off < text.size());
  if (!ok && !b.failed) {
    b.failed = true;
    b.error = {
        {static_cast<int>(XML_GetCurrentLineNumber(parser)), static_cast<int>(XML_GetCurrentColumnNumber(parser)) + 1},
        std::string("malformed XML: ") + XML_ErrorString(XML_GetErrorCode(parser))};
  }
  if (ok && !b.failed && text.empty()) {
    b.failed = true;
    b.error = {{1, 1}, "malformed XML: the document is empty"};
  }
  XML_ParserFree(parser);
  if (b.failed) {
    error = b.error;
    return nullptr;
  }
  if (!b.root) {
    error = {{1, 1}, "malformed XML: no root element"};
    return nullptr;
  }
  return std::move(b.root);
}

}  // namespace acm::cmmn::detail
