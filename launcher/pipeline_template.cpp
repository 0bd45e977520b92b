/* Rendering of pipeline description templates.
 *
 * How gst-launch reads a property value (gst/parse, 1.22): the lexer takes a
 * double-quoted string as one token, in which a quote preceded by a
 * backslash does not end the string; the outer quotes are removed and every
 * backslash escapes the next character; then a string property's value is
 * deserialized, which turns "NULL" into no string and unwraps a value that
 * starts and ends with a quote as a serialized GStreamer string.
 *
 * So a whole value is written as "..." with each \ and " escaped. A value
 * the deserializer would misread (NULL, "...") or that ends in a backslash
 * (its closing quote would read as escaped and the token would run on into
 * the text that follows) is first wrapped as a serialized string, which the
 * deserializer unwraps back to exactly the value. */

#include "pipeline_template.h"

#include <glib.h>

#include <algorithm>
#include <cstring>

namespace voxbridge::launcher {

namespace {

bool
is_variable_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

/* Characters that mean nothing to the gst-launch lexer or to caps and
 * structure syntax, so that a value made of them is safe anywhere. */
bool
is_inert_char (char c)
{
  return g_ascii_isalnum (c) || strchr ("_.+:@/-", c) != nullptr;
}

bool
ends_whole_value (const std::string & line, size_t pos)
{
  return pos >= line.size () || g_ascii_isspace (line[pos]) || line[pos] == '!';
}

bool
starts_whole_value (const std::string & line, size_t dollar)
{
  size_t i = dollar;
  while (i > 0 && g_ascii_isspace (line[i - 1]))
    i--;
  return i > 0 && line[i - 1] == '=';
}

/* "..." with \\ and " escaped by a backslash. */
std::string
quoted (const std::string & value)
{
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

bool
needs_string_wrapping (const std::string & value)
{
  return value == "NULL" || (!value.empty () && value.back () == '\\')
      || (!value.empty () && value.front () == '"' && value.back () == '"');
}

std::string
quoted_value (const std::string & value)
{
  return quoted (needs_string_wrapping (value) ? quoted (value) : value);
}

int
column_of (const std::string & line, size_t byte)
{
  return g_utf8_strlen (line.c_str (), byte) + 1;
}

bool
is_comment_line (const std::string & line)
{
  size_t i = line.find_first_not_of (" \t\r");
  return i != std::string::npos && line[i] == '#';
}

std::vector<std::string>
split_lines (const std::string & text)
{
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t end = text.find ('\n', start);
    if (end == std::string::npos) {
      lines.push_back (text.substr (start));
      return lines;
    }
    lines.push_back (text.substr (start, end - start));
    start = end + 1;
  }
}

class Renderer {
 public:
  Renderer (const std::string & file, const PipelineVariables & variables,
      PipelineError & error)
    : variables_ (variables), error_ (error)
  {
    rendered_.file = file;
  }

  bool render (const std::string & text)
  {
    const std::vector<std::string> lines = split_lines (text);
    for (size_t n = 0; n < lines.size (); n++) {
      line_no_ = n + 1;
      rendered_.template_lines.push_back (line_no_);
      if (!is_comment_line (lines[n]) && !render_line (lines[n]))
        return false;
      if (n + 1 < lines.size ())
        rendered_.description += '\n';
    }
    return true;
  }

  RenderedPipeline take () { return std::move (rendered_); }

 private:
  bool render_line (const std::string & line)
  {
    char quote = 0;   /* the template's own quoting, " or ' */
    for (size_t i = 0; i < line.size (); i++) {
      const char c = line[i];
      if (c == '\\' && i + 1 < line.size () && line[i + 1] != '$') {
        rendered_.description += line.substr (i, 2);
        i++;
        continue;
      }
      if (quote == 0 && (c == '"' || c == '\''))
        quote = c;
      else if (quote != 0 && c == quote)
        quote = 0;
      if (c != '$') {
        rendered_.description += c;
        continue;
      }
      if (i + 1 < line.size () && line[i + 1] == '$') {
        rendered_.description += '$';
        i++;
        continue;
      }
      if (i + 1 >= line.size () || line[i + 1] != '{') {
        rendered_.description += '$';
        continue;
      }
      size_t close = line.find ('}', i + 2);
      if (close == std::string::npos)
        return fail (line, i, "'${' without a closing '}' (write $$ for a literal $)");
      const std::string name = line.substr (i + 2, close - i - 2);
      if (name.empty () || !std::all_of (name.begin (), name.end (), is_variable_name_char))
        return fail (line, i, "'${" + name + "}' is not a variable name "
            "(letters, digits, '.', '-', '_')");
      auto value = variables_.find (name);
      if (value == variables_.end ())
        return fail (line, i, "unknown variable ${" + name + "}");
      const bool whole_value = quote == 0 && starts_whole_value (line, i)
          && ends_whole_value (line, close + 1);
      if (!insert (line, i, name, value->second, whole_value))
        return false;
      i = close;
    }
    return true;
  }

  bool insert (const std::string & line, size_t at, const std::string & name,
      const std::string & value, bool whole_value)
  {
    if (!g_utf8_validate (value.c_str (), value.size (), nullptr))
      return fail (line, at, "the value of ${" + name + "} is not valid UTF-8");
    if (whole_value) {
      for (char c : value) {
        if (c == '\n')
          rendered_.template_lines.push_back (line_no_);
      }
      rendered_.description += quoted_value (value);
      return true;
    }
    auto bad = std::find_if_not (value.begin (), value.end (), is_inert_char);
    if (bad != value.end ()) {
      char shown[8];
      if (g_ascii_isprint (*bad))
        g_snprintf (shown, sizeof shown, "%c", *bad);
      else
        g_snprintf (shown, sizeof shown, "\\x%02x", (guint8) *bad);
      return fail (line, at, "the value of ${" + name + "} contains '" + std::string (shown)
          + "', which is only allowed where the variable is a whole property value "
          "(name=${" + name + "})");
    }
    rendered_.description += value;
    return true;
  }

  bool fail (const std::string & line, size_t byte, const std::string & message)
  {
    error_.file = rendered_.file;
    error_.line = line_no_;
    error_.column = column_of (line, byte);
    error_.message = message;
    return false;
  }

  const PipelineVariables & variables_;
  PipelineError & error_;
  RenderedPipeline rendered_;
  int line_no_ = 0;
};

}  // namespace

std::string
PipelineError::to_string () const
{
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string (line);
    if (column > 0)
      out += ":" + std::to_string (column);
  }
  return out + ": " + message;
}

int
RenderedPipeline::template_line_at (size_t offset) const
{
  const size_t end = std::min (offset, description.size ());
  const size_t index = std::count (description.begin (), description.begin () + end, '\n');
  if (template_lines.empty ())
    return 0;
  return template_lines[std::min (index, template_lines.size () - 1)];
}

std::optional<RenderedPipeline>
render_pipeline (const std::string & template_text, const std::string & file,
    const PipelineVariables & variables, PipelineError & error)
{
  Renderer renderer (file, variables, error);
  if (!renderer.render (template_text))
    return std::nullopt;
  return renderer.take ();
}

std::optional<RenderedPipeline>
render_pipeline_file (const std::string & path, const PipelineVariables & variables,
    PipelineError & error)
{
  gchar *contents = nullptr;
  gsize length = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &contents, &length, &err)) {
    error = {path, 0, 0, err->message};
    g_clear_error (&err);
    return std::nullopt;
  }
  auto rendered = render_pipeline (std::string (contents, length), path, variables, error);
  g_free (contents);
  return rendered;
}

std::vector<std::string>
pipeline_template_variables (const std::string & template_text)
{
  std::vector<std::string> names;
  for (const std::string & line : split_lines (template_text)) {
    if (is_comment_line (line))
      continue;
    for (size_t i = 0; i + 1 < line.size (); i++) {
      if (line[i] == '$' && line[i + 1] == '$') {
        i++;
        continue;
      }
      if (line[i] != '$' || line[i + 1] != '{')
        continue;
      size_t close = line.find ('}', i + 2);
      if (close == std::string::npos)
        break;
      std::string name = line.substr (i + 2, close - i - 2);
      if (std::find (names.begin (), names.end (), name) == names.end ())
        names.push_back (name);
      i = close;
    }
  }
  return names;
}

}  // namespace voxbridge::launcher
