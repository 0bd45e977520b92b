/* JSON-lines transcript of a call. */

#include "transcript_writer.h"

#include <json-glib/json-glib.h>

#include "call_event.h"

namespace voxbridge::launcher {

namespace {

/* Whole milliseconds: exact in JSON (doubles print with 17 digits) and
 * plenty for speech timing. */
gint64
to_ms (double seconds)
{
  return static_cast<gint64> (seconds * 1000.0 + (seconds < 0 ? -0.5 : 0.5));
}

}  // namespace

std::string
transcript_line_json (const TranscriptLine & line)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "speaker");
  json_builder_add_string_value (b, line.speaker.c_str ());
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, line.text.c_str ());
  json_builder_set_member_name (b, "item_id");
  json_builder_add_string_value (b, line.item_id.c_str ());
  json_builder_set_member_name (b, "start_ms");
  json_builder_add_int_value (b, to_ms (line.start_s));
  json_builder_set_member_name (b, "end_ms");
  json_builder_add_int_value (b, to_ms (line.end_s));
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, format_event_time (line.start_wall_us).c_str ());
  json_builder_end_object (b);
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  gchar *text = json_generator_to_data (gen, nullptr);
  std::string out (text);
  g_free (text);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return out;
}

std::unique_ptr<TranscriptWriter>
TranscriptWriter::create (const std::string & path, std::string & error)
{
  auto file = AtomicFile::create (path, error);
  if (!file)
    return nullptr;
  return std::unique_ptr<TranscriptWriter> (new TranscriptWriter (std::move (file)));
}

bool
TranscriptWriter::add (const TranscriptLine & line, std::string & error)
{
  if (!file_->write (transcript_line_json (line) + "\n", error))
    return false;
  lines_++;
  return true;
}

bool
TranscriptWriter::finish (std::string & error)
{
  return file_->commit (error);
}

}  // namespace voxbridge::launcher
