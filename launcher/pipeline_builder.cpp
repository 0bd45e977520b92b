/* Pipeline construction with gst_parse_launch_full.
 *
 * GstParseError carries no position, only a message naming the element or
 * property, so the location is recovered by looking for that element (and
 * property) in the rendered text and mapping it back to the template line. */

#include "pipeline_builder.h"

#include <algorithm>
#include <cstring>

namespace voxbridge::launcher {

namespace {

bool
is_token_boundary (const std::string & text, size_t pos)
{
  return pos >= text.size () || g_ascii_isspace (text[pos]) || text[pos] == '!';
}

/* Byte offsets of @word as a whole gst-launch token, outside quotes. */
std::vector<size_t>
find_tokens (const std::string & text, const std::string & word, size_t from = 0)
{
  std::vector<size_t> found;
  char quote = 0;
  for (size_t i = 0; i < text.size (); i++) {
    const char c = text[i];
    if (c == '\\') {
      i++;
      continue;
    }
    if (quote) {
      quote = c == quote ? 0 : quote;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (i >= from && (i == 0 || is_token_boundary (text, i - 1))
        && text.compare (i, word.size (), word) == 0
        && is_token_boundary (text, i + word.size ()))
      found.push_back (i);
  }
  return found;
}

/* Byte offset of "property=" at or after @from, outside quotes. */
size_t
find_property (const std::string & text, const std::string & property, size_t from)
{
  char quote = 0;
  for (size_t i = 0; i < text.size (); i++) {
    const char c = text[i];
    if (c == '\\') {
      i++;
      continue;
    }
    if (quote) {
      quote = c == quote ? 0 : quote;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (i < from || (i > 0 && !g_ascii_isspace (text[i - 1])))
      continue;
    if (text.compare (i, property.size (), property) != 0)
      continue;
    size_t j = i + property.size ();
    while (j < text.size () && g_ascii_isspace (text[j]))
      j++;
    if (j < text.size () && text[j] == '=')
      return i;
  }
  return std::string::npos;
}

/* The "quoted" words of a GStreamer parse error message, in order. */
std::vector<std::string>
quoted_words (const char *message)
{
  std::vector<std::string> words;
  const char *p = message;
  while ((p = strchr (p, '"'))) {
    const char *end = strchr (p + 1, '"');
    if (!end)
      break;
    words.emplace_back (p + 1, end - p - 1);
    p = end + 1;
  }
  return words;
}

/* "could not link a to b[, ...]" -> {a, b} */
std::vector<std::string>
linked_elements (const char *message)
{
  std::vector<std::string> names;
  GRegex *regex = g_regex_new ("could not link (\\S+?) to ([^\\s,]+)", G_REGEX_DEFAULT,
      G_REGEX_MATCH_DEFAULT, nullptr);
  GMatchInfo *match = nullptr;
  if (g_regex_match (regex, message, G_REGEX_MATCH_DEFAULT, &match)) {
    for (int group = 1; group <= 2; group++) {
      gchar *name = g_match_info_fetch (match, group);
      names.emplace_back (name);
      g_free (name);
    }
  }
  g_match_info_free (match);
  g_regex_unref (regex);
  return names;
}

size_t
locate_error (const RenderedPipeline & rendered, const GError * err,
    const std::vector<std::string> & missing)
{
  const std::string & text = rendered.description;
  if (err->domain != GST_PARSE_ERROR)
    return std::string::npos;
  switch (err->code) {
    case GST_PARSE_ERROR_NO_SUCH_ELEMENT:
      if (!missing.empty ())
        return find_element_in_description (text, missing.front ());
      break;
    case GST_PARSE_ERROR_NO_SUCH_PROPERTY:
    case GST_PARSE_ERROR_COULD_NOT_SET_PROPERTY: {
      /* no property "p" in element "e" / could not set property "p" in element "e" to "v" */
      auto words = quoted_words (err->message);
      if (words.empty ())
        break;
      size_t element = words.size () > 1
          ? find_element_in_description (text, words[1]) : std::string::npos;
      size_t property = find_property (text, words[0],
          element == std::string::npos ? 0 : element);
      return property != std::string::npos ? property : element;
    }
    case GST_PARSE_ERROR_LINK: {
      /* Point at the downstream element, the first one after upstream. */
      auto names = linked_elements (err->message);
      if (names.size () != 2)
        break;
      size_t upstream = find_element_in_description (text, names[0]);
      size_t downstream = find_element_in_description (text, names[1],
          upstream == std::string::npos ? 0 : upstream + 1);
      return downstream != std::string::npos ? downstream : upstream;
    }
    default:
      break;
  }
  return std::string::npos;
}

}  // namespace

size_t
find_element_in_description (const std::string & description, const std::string & name,
    size_t from)
{
  for (const std::string & spelling : {"name=" + name, "name=\"" + name + "\""}) {
    auto named = find_tokens (description, spelling, from);
    if (!named.empty ()) {
      /* the element starts at the factory name before its properties */
      size_t start = description.find_last_of ("!\n", named.front ());
      start = start == std::string::npos ? 0 : start + 1;
      return description.find_first_not_of (" \t", start);
    }
  }
  std::string factory = name;
  while (!factory.empty () && g_ascii_isdigit (factory.back ()))
    factory.pop_back ();
  for (const std::string & candidate : {name, factory}) {
    if (candidate.empty ())
      continue;
    auto found = find_tokens (description, candidate, from);
    if (!found.empty ())
      return found.front ();
  }
  return std::string::npos;
}

std::vector<std::string>
pipeline_element_factories (const std::string & description)
{
  /* Every word outside quotes that is not caps ('/'), a property ('='), a
   * pad reference ('.') or '!' names an element; "p = v" is a property. */
  std::vector<std::string> factories;
  const std::string & d = description;
  size_t i = 0;
  while (i < d.size ()) {
    if (g_ascii_isspace (d[i]) || d[i] == '!') {
      i++;
      continue;
    }
    const size_t start = i;
    char quote = 0;
    while (i < d.size () && (quote || !(g_ascii_isspace (d[i]) || d[i] == '!'))) {
      if (d[i] == '\\')
        i++;
      else if (quote && d[i] == quote)
        quote = 0;
      else if (!quote && (d[i] == '"' || d[i] == '\''))
        quote = d[i];
      i++;
    }
    const std::string word = d.substr (start, std::min (i, d.size ()) - start);
    const size_t next = d.find_first_not_of (" \t\r\n", i);
    const size_t prev = start == 0 ? std::string::npos : d.find_last_not_of (" \t\r\n", start - 1);
    const bool assignment = (next != std::string::npos && d[next] == '=')
        || (prev != std::string::npos && d[prev] == '=');
    if (!assignment && word.find_first_of ("/=\"'.") == std::string::npos)
      factories.push_back (word);
  }
  return factories;
}

std::vector<std::string>
missing_element_factories (const std::string & description)
{
  std::vector<std::string> missing;
  for (const std::string & name : pipeline_element_factories (description)) {
    GstElementFactory *factory = gst_element_factory_find (name.c_str ());
    if (factory)
      gst_object_unref (factory);
    else if (std::find (missing.begin (), missing.end (), name) == missing.end ())
      missing.push_back (name);
  }
  return missing;
}

GstElement *
build_pipeline (const RenderedPipeline & rendered, PipelineBuildError & error)
{
  GstParseContext *context = gst_parse_context_new ();
  GError *err = nullptr;
  GstElement *element = gst_parse_launch_full (rendered.description.c_str (), context,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!element) {
    gchar **missing = gst_parse_context_get_missing_elements (context);
    for (gchar **m = missing; m && *m; m++)
      error.missing_elements.emplace_back (*m);
    g_strfreev (missing);

    error.file = rendered.file;
    error.domain = err ? err->domain : 0;
    error.code = err ? err->code : 0;
    error.message = err ? err->message : "could not build the pipeline";
    if (err) {
      size_t at = locate_error (rendered, err, error.missing_elements);
      if (at != std::string::npos)
        error.line = rendered.template_line_at (at);
    }
    g_clear_error (&err);
    gst_parse_context_free (context);
    return nullptr;
  }
  gst_parse_context_free (context);
  gst_object_ref_sink (element);

  if (GST_IS_PIPELINE (element))
    return element;
  /* A description of a single element gives that element, not a pipeline. */
  GstElement *pipeline = gst_pipeline_new (nullptr);
  gst_bin_add (GST_BIN (pipeline), element);
  gst_object_unref (element);
  return GST_ELEMENT (gst_object_ref_sink (pipeline));
}

}  // namespace voxbridge::launcher
