// SPDX-License-Identifier: Apache-2.0
// cmmn/xml.hpp - a small read-only XML tree built with expat, with line and column of every
// element, for the CMMN importer. Private to the library.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acm::cmmn::detail {

/// Where something is in the XML text (1-based line and column; 0 = unknown).
struct Position {
  int line = 0;
  int column = 0;
};

/// One element. Names are split into namespace URI and local name.
struct XmlNode {
  std::string ns;     ///< namespace URI ("" = none)
  std::string local;  ///< local name
  Position pos;
  /// Attributes: (namespace URI, local name, value), in document order.
  struct Attr {
    std::string ns, local, value;
  };
  std::vector<Attr> attrs;
  std::string text;  ///< character data directly inside this element (CDATA included)
  std::vector<std::unique_ptr<XmlNode>> children;
  XmlNode* parent = nullptr;

  /// The value of an attribute without namespace, or nullptr.
  const std::string* attr(std::string_view name) const;
  /// The value of a namespaced attribute, or nullptr.
  const std::string* attr(std::string_view ns_uri, std::string_view name) const;
};

/// Limits that keep a hostile document from exhausting memory or the stack.
struct XmlLimits {
  std::size_t max_bytes = 32u << 20;  ///< input size
  int max_depth = 256;                ///< element nesting
  std::size_t max_elements = 500000;  ///< elements in total
};

/// A parse failure: the position and what expat (or a limit) said.
struct XmlError {
  Position pos;
  std::string message;
};

/// Parses `text` into a tree. On failure returns nullptr and fills `error`. Documents with a
/// DOCTYPE are refused (no entity expansion of any kind).
std::unique_ptr<XmlNode> parse_xml(std::string_view text, XmlError& error, const XmlLimits& limits = {});

}  // namespace acm::cmmn::detail
